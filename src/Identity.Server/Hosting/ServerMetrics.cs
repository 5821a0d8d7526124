using System.Diagnostics.Metrics;
using Identity.Server.Accounts;

namespace Identity.Server.Hosting;

/// <summary>
/// The server's own meter, <c>Identity.Server</c>: what an operator alerts on, one method per event. Tags are
/// low-cardinality only: grant types, OAuth error codes, configured client ids and fixed reasons, never a user name,
/// address, token or anything else a caller can make up. docs/operations.md lists each metric as Prometheus shows it
/// (dots become underscores, counters end in <c>_total</c>, a unit of seconds adds <c>_seconds</c>, a unit in braces
/// adds nothing); docs/grafana-dashboard.json charts them.
/// </summary>
internal sealed class ServerMetrics
{
    public const string MeterName = "Identity.Server";

    private readonly Counter<long> tokensIssued;
    private readonly Counter<long> requestsRefused;
    private readonly Counter<long> signInFailures;
    private readonly Counter<long> lockouts;
    private readonly Counter<long> refreshTokensReused;
    private readonly Counter<long> authorizationsRevoked;
    private readonly Counter<long> tokensRevoked;
    private readonly Counter<long> introspections;
    private readonly Counter<long> emailsQueued;
    private readonly Counter<long> emailsSent;
    private readonly Counter<long> emailsFailedPermanently;
    private readonly Counter<long> pruneRowsDeleted;
    private readonly Histogram<double> pruneDuration;
    private readonly Counter<long> signingKeysRotated;
    // Ticks, or -1 while no dispatch run has said: read by the gauge at each collection, never a query per scrape.
    private long oldestUnsentEmailAgeTicks = -1;

    public ServerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        tokensIssued = meter.CreateCounter<long>("identity.tokens.issued", "{response}",
            "Successful token responses (each may carry an access, refresh and id token), by grant_type and client_id.");
        requestsRefused = meter.CreateCounter<long>("identity.requests.refused", "{response}",
            "OAuth error responses of the token, revocation, introspection, pushed authorization and device authorization endpoints (RFC 6749 §5.2), by error code.");
        signInFailures = meter.CreateCounter<long>("identity.signin.failures", "{attempt}",
            "Refused password sign-ins, by channel (password_grant, login_page) and reason (invalid_credentials, locked_out, not_confirmed).");
        lockouts = meter.CreateCounter<long>("identity.signin.lockouts", "{lockout}",
            "Accounts locked out by a failed password, by channel (password_grant, login_page, password_change).");
        refreshTokensReused = meter.CreateCounter<long>("identity.refresh_tokens.reused", "{token}",
            "Redeemed refresh tokens presented again after the reuse leeway; each revoked its authorization.");
        authorizationsRevoked = meter.CreateCounter<long>("identity.authorizations.revoked", "{authorization}",
            "Authorizations (sign-ins and every token issued from them) revoked, by reason.");
        tokensRevoked = meter.CreateCounter<long>("identity.tokens.revoked", "{token}",
            "Tokens revoked at the revocation endpoint (RFC 7009), by token_type.");
        introspections = meter.CreateCounter<long>("identity.introspections", "{response}",
            "Introspection answers (RFC 7662), by whether the token was active.");
        emailsQueued = meter.CreateCounter<long>("identity.emails.queued", "{email}", "Emails added to the outbox.");
        emailsSent = meter.CreateCounter<long>("identity.emails.sent", "{email}", "Emails accepted by the mail server.");
        emailsFailedPermanently = meter.CreateCounter<long>("identity.emails.failed_permanently", "{email}",
            "Emails given up on: they will not be retried.");
        meter.CreateObservableGauge("identity.emails.oldest_unsent.age", ObserveOldestUnsentEmailAge, "s",
            "Age of the oldest email waiting in the outbox (0 when it is empty), as of the last dispatch run.");
        pruneRowsDeleted = meter.CreateCounter<long>("identity.prune.rows_deleted", "{row}",
            "Rows deleted by the prune job (tokens, authorizations, used email links, sent emails).");
        pruneDuration = meter.CreateHistogram<double>("identity.prune.duration", "s", "Duration of prune runs; its count is the number of runs.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600] });
        signingKeysRotated = meter.CreateCounter<long>("identity.signing_keys.rotated", "{key}",
            "Signing keys created (the first one and each successor), by algorithm.");
    }

    /// <param name="grantType">The grant's registered name (never a raw request value).</param>
    /// <param name="clientId">An authenticated, configured client.</param>
    public void TokenIssued(string grantType, string clientId) =>
        tokensIssued.Add(1, new("grant_type", grantType), new("client_id", clientId));

    /// <param name="error">The RFC error code we answered with.</param>
    public void RequestRefused(string error) => requestsRefused.Add(1, new KeyValuePair<string, object?>("error", error));

    public void PasswordSignInFailed(SignInChannel channel, SignInOutcome outcome) =>
        signInFailures.Add(1, new("channel", Name(channel)), new("reason", outcome switch
        {
            SignInOutcome.InvalidCredentials => "invalid_credentials",
            SignInOutcome.LockedOut => "locked_out",
            SignInOutcome.NotConfirmed => "not_confirmed",
            _ => "other",
        }));

    public void LockedOut(SignInChannel channel) => lockouts.Add(1, new KeyValuePair<string, object?>("channel", Name(channel)));

    /// <summary>Reuse revokes the token's authorization, so this counts that revocation too.</summary>
    public void RefreshTokenReused()
    {
        refreshTokensReused.Add(1);
        AuthorizationRevoked("refresh_token_reuse");
    }

    /// <param name="reason">A fixed word: <c>refresh_token_reuse</c>, <c>code_reuse</c>, <c>revocation</c>.</param>
    public void AuthorizationRevoked(string reason) => authorizationsRevoked.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>A revoked refresh token takes its authorization with it (SPEC §2), which is counted too.</summary>
    /// <param name="tokenType"><c>access_token</c> or <c>refresh_token</c>.</param>
    public void TokenRevoked(string tokenType)
    {
        tokensRevoked.Add(1, new KeyValuePair<string, object?>("token_type", tokenType));
        if (tokenType == "refresh_token") AuthorizationRevoked("revocation");
    }

    public void Introspected(bool active) => introspections.Add(1, new KeyValuePair<string, object?>("active", active));

    public void EmailQueued() => emailsQueued.Add(1);

    public void EmailSent() => emailsSent.Add(1);

    public void EmailFailedPermanently() => emailsFailedPermanently.Add(1);

    /// <summary>Set by each dispatch run: the age of the oldest unsent email, <see cref="TimeSpan.Zero"/> for an empty outbox.</summary>
    public void SetOldestUnsentEmailAge(TimeSpan age) => Interlocked.Exchange(ref oldestUnsentEmailAgeTicks, Math.Max(0, age.Ticks));

    public void PruneRan(long rowsDeleted, TimeSpan duration)
    {
        pruneRowsDeleted.Add(rowsDeleted);
        pruneDuration.Record(duration.TotalSeconds);
    }

    public void SigningKeyRotated(string algorithm) => signingKeysRotated.Add(1, new KeyValuePair<string, object?>("algorithm", algorithm));

    private IEnumerable<Measurement<double>> ObserveOldestUnsentEmailAge()
    {
        var ticks = Interlocked.Read(ref oldestUnsentEmailAgeTicks);
        return ticks < 0 ? [] : [new Measurement<double>(TimeSpan.FromTicks(ticks).TotalSeconds)];
    }

    private static string Name(SignInChannel channel) => channel switch
    {
        SignInChannel.PasswordGrant => "password_grant",
        SignInChannel.LoginPage => "login_page",
        SignInChannel.PasswordChange => "password_change",
        _ => "other",
    };
}
