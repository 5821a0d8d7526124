namespace Identity.Server.Jobs;

/// <summary>
/// When a job last started, cluster-wide. A node runs a job only after winning a conditional update on this row, so a
/// job scheduled on every node runs on one node per interval.
/// </summary>
public sealed class JobLease
{
    public required string Name { get; set; }
    public DateTimeOffset LastStartedAt { get; set; }
    public string? LastResult { get; set; }
}
