-- Jobs run on Quartz.NET's clustered ADO.NET job store on PostgreSQL, which fires each trigger on one node; the lease
-- table that did that job before is no longer needed.
DROP TABLE "JobLeases";

-- The line below is replaced by the DDL the referenced Quartz package ships for its own version (tables prefixed
-- qrtz_), so the tables always match the store that reads them; Quartz validates them when the scheduler starts.
-- @quartz-schema qrtz_
