-- An email refused for good (a 5xx reply to its recipient or its content) is marked failed and never retried.
ALTER TABLE "OutboxMessages" ADD "FailedAt" timestamp with time zone;
