-- On SQLite (one node) jobs use Quartz's in-memory store; the lease table is no longer needed.
DROP TABLE "JobLeases";
