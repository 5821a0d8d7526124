using Identity.Server.Accounts;
using Identity.Server.Email;
using Identity.Server.Jobs;
using Identity.Server.Hosting;
using Identity.Server.Persistence;
using Identity.Server.Protocol;

if (args is [LivenessProbe.Verb])
{
    Environment.ExitCode = await LivenessProbe.RunAsync();
    return;
}
if (DatabaseCommands.RefusedOrHelp(args, Console.Out, Console.Error) is { } exitCode)
{
    Environment.ExitCode = exitCode;
    return;
}

var builder = WebApplication.CreateBuilder(DefaultSettings.Options(args));
WebApplication app;
try
{
    builder.AddDefaultSettings();
    builder.Services.AddSingleton(TimeProvider.System);
    builder.AddHosting();
    builder.AddTelemetry();
    builder.AddForwardedHeaders();
    builder.AddPersistence();
    builder.AddDataProtectionKeyRing(servesRequests: !DatabaseCommands.IsCommand(args));
    builder.AddAccounts();
    builder.AddProtocol(servesRequests: !DatabaseCommands.IsCommand(args));
    builder.AddEmail();
    builder.AddJobs();
    builder.ReadKeyRingOnFirstUse();

    app = builder.Build();
    app.ValidateOptions();
}
catch (Exception refusal) when (StartUpRefusal.EndsTheProcess(refusal))
{
    Environment.ExitCode = StartUpRefusal.Report(refusal, builder.Environment);
    return;
}
try
{
    if (await DatabaseCommands.TryRunAsync(app, args)) return;
    await app.MigrateOnStartupAsync();
    await app.PrepareProtocolAsync();
}
catch (Exception failure) when (StartUpRefusal.IsTheProcess)
{
    Environment.ExitCode = await StartUpRefusal.ReportFailureAsync(failure, app);
    return;
}

app.AdviseOnCollectorBudget();
app.UseHeadAsGet();
app.UseRouting(); // after HEAD became GET: routes match on the method
app.UseProtocolRouteNames();
app.UseTrustedForwardedHeaders();
app.UseServerExceptionHandling();
app.UseBodiesForEmptyErrors();
app.UseSecurityHeaders();
app.UseStaticFiles();
app.UseMiddleware<RefusePlainHttpForPeople>();
app.UseProtocolGuards();
app.UseUtf8Guard();
app.UseAuthentication();
app.UseAuthorization();
app.MapHealth();
app.MapTelemetry();
app.MapProtocol();
app.MapControllers();
app.MapRazorPages();
app.MapOpenApi();

// Awaited, not blocked on: after the awaits above, this may be running on whichever thread completed the last of them
// (with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS, a socket engine's own thread), and blocking it there would stall
// every socket of that engine for the life of the process.
await app.RunAsync();

/// <summary>Entry point; public so that tests can host it.</summary>
public partial class Program;
