namespace Identity.Server.Jobs;

/// <summary>Section "Jobs" (SPEC §5).</summary>
public sealed class JobsOptions
{
    public const string SectionName = "Jobs";
    public PruneJobOptions Prune { get; set; } = new();
    public EmailJobOptions Email { get; set; } = new();
}

/// <summary>"Jobs:Prune".</summary>
public sealed class PruneJobOptions
{
    public bool Enabled { get; set; } = true;
    /// <summary>Default one hour.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);
    /// <summary>Default 14 days: redeemed tokens are kept this long so that reuse is still recognised.</summary>
    public TimeSpan RetentionAge { get; set; } = TimeSpan.FromDays(14);
    /// <summary>Default 5 minutes after start.</summary>
    public TimeSpan FirstRunDelay { get; set; } = TimeSpan.FromMinutes(5);
    public int BatchSize { get; set; } = 5_000;
    public int MaxRowsPerRun { get; set; } = 2_000_000;
}

/// <summary>"Jobs:Email": how often the outbox is read, and how retries back off.</summary>
public sealed class EmailJobOptions
{
    /// <summary>Default 5 seconds.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>Default 20: the most messages one run sends, all over one SMTP connection.</summary>
    public int BatchSize { get; set; } = 20;
    /// <summary>Default 10 seconds, doubled per failed attempt up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);
    /// <summary>How long a node may hold a claimed message before another node may retry it.</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(2);
}
