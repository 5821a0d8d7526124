using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster in a temp directory (initdb + pg_ctl), run as the <c>postgres</c> OS user when the
/// tests run as root, because PostgreSQL refuses to run as root.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string directory;
    public int Port { get; }
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Timeout=3";

    private PostgresCluster(string directory, int port) => (this.directory, Port) = (directory, port);

    public static async Task<PostgresCluster> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"identity-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        if (Environment.UserName == "root") await RunAsync("chown", "postgres:postgres", directory);
        var cluster = new PostgresCluster(directory, TestHosts.FreePort());
        await cluster.RunAsPostgresAsync("initdb", "-D", cluster.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        await cluster.StartServerAsync();
        return cluster;
    }

    private string DataDirectory => Path.Combine(directory, "data");

    public Task StartServerAsync() => RunAsPostgresAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "30",
        "-o", $"-p {Port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
        "start");

    public async Task StopServerAsync()
    {
        await RunAsPostgresAsync("pg_ctl", "-D", DataDirectory, "-m", "fast", "-w", "stop");
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>
    /// The server stops answering without refusing anything, as behind a frozen host or a network partition: the
    /// postmaster first (no new backends), then its backends, stopped by SIGSTOP. Open connections stay open and silent.
    /// </summary>
    public Task FreezeAsync() => RunAsync("sh", "-c", $"pm=$(head -n 1 '{DataDirectory}/postmaster.pid'); kill -STOP $pm; kill -STOP $(pgrep -P $pm)");

    public Task ThawAsync() => RunAsync("sh", "-c", $"pm=$(head -n 1 '{DataDirectory}/postmaster.pid'); kill -CONT $(pgrep -P $pm) $pm");

    public async Task CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DropDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try { await StopServerAsync(); } catch (InvalidOperationException) { /* already stopped */ }
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private Task RunAsPostgresAsync(string program, params string[] arguments) =>
        Environment.UserName == "root"
            ? RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments])
            : RunAsync(program, arguments);

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/tmp" };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        // pg_ctl start leaves the server holding inherited pipes open, so read to the exit, not to end-of-stream.
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode == 0) return;
        var error = await Task.WhenAny(stderr, Task.Delay(1000)) == stderr ? stderr.Result : "";
        throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {error}");
    }

}
