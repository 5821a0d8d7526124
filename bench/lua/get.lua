-- GET the URL given on the command line (discovery, health).
local common = dofile("lua/common.lua")
done = common.done
