using Identity.Server.Hosting;
using Identity.Server.Persistence;

if (args is [LivenessProbe.Verb])
{
    Environment.ExitCode = await LivenessProbe.RunAsync();
    return;
}

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSingleton(TimeProvider.System);
builder.AddHosting();
builder.AddForwardedHeaders();
builder.AddPersistence();

var app = builder.Build();
if (await DatabaseCommands.TryRunAsync(app, args)) return;
await app.MigrateOnStartupAsync();

app.UseForwardedHeaders();
app.UseServerExceptionHandling();
app.MapHealth();

app.Run();

/// <summary>Entry point; public so that tests can host it.</summary>
public partial class Program;
