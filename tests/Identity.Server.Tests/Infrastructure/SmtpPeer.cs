using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>
/// A small but strict SMTP server (RFC 5321) on loopback, for what maildev cannot be made to do: refuse a recipient
/// with a chosen reply, offer STARTTLS (maildev 2.2 never advertises it), offer AUTH without TLS, and count
/// connections. It speaks to the server under test over a real socket, like any mail server would.
/// </summary>
public sealed class SmtpPeer : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentQueue<ReceivedMail> messages = new();
    private readonly ConcurrentQueue<string> commands = new();
    private readonly ConcurrentBag<Task> sessions = [];
    private readonly Task accepting;
    private int connections;

    /// <summary>Set: STARTTLS is offered, and this certificate presented.</summary>
    public X509Certificate2? StartTlsCertificate { get; init; }
    /// <summary>AUTH PLAIN is offered (and any credentials accepted), even on a connection without TLS.</summary>
    public bool OffersAuth { get; init; }
    /// <summary>The reply to <c>RCPT TO</c> for an address; null accepts it.</summary>
    public Func<string, string?> RecipientReply { get; init; } = _ => null;

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;
    public int Connections => Volatile.Read(ref connections);
    public IReadOnlyList<ReceivedMail> Messages => [.. messages];
    /// <summary>Every command received, in order, with AUTH's credentials left out.</summary>
    public IReadOnlyList<string> Commands => [.. commands];

    public SmtpPeer()
    {
        listener.Start();
        accepting = AcceptAsync();
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Interlocked.Increment(ref connections);
            sessions.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient tcp)
    {
        using var _ = tcp;
        Stream stream = tcp.GetStream();
        var ct = stopping.Token;
        try
        {
            var reader = new StreamReader(stream, Encoding.Latin1);
            var secure = false;
            string? from = null;
            var to = new List<string>();
            await ReplyAsync(stream, "220 peer.test ESMTP", ct);
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                commands.Enqueue(verb == "AUTH" ? "AUTH" : line);
                switch (verb)
                {
                    case "EHLO":
                        var lines = new List<string> { "peer.test" };
                        if (StartTlsCertificate is not null && !secure) lines.Add("STARTTLS");
                        if (OffersAuth) lines.Add("AUTH PLAIN");
                        await ReplyAsync(stream, string.Join("\r\n", lines.Select((l, i) => $"250{(i == lines.Count - 1 ? ' ' : '-')}{l}")), ct);
                        break;
                    case "HELO":
                        await ReplyAsync(stream, "250 peer.test", ct);
                        break;
                    case "STARTTLS" when StartTlsCertificate is not null && !secure:
                        await ReplyAsync(stream, "220 2.0.0 Ready to start TLS", ct);
                        var tls = new SslStream(stream);
                        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = StartTlsCertificate }, ct);
                        // RFC 3207 §4.2: everything said before the handshake is forgotten; the client starts again with EHLO.
                        (stream, reader, secure, from) = (tls, new StreamReader(tls, Encoding.Latin1), true, null);
                        to.Clear();
                        break;
                    case "AUTH" when OffersAuth:
                        if (line.Split(' ').Length < 3)
                        {
                            await ReplyAsync(stream, "334 ", ct);
                            await reader.ReadLineAsync(ct);
                        }
                        await ReplyAsync(stream, "235 2.7.0 Authentication successful", ct);
                        break;
                    case "MAIL" when from is not null:
                        await ReplyAsync(stream, "503 5.5.1 Error: nested MAIL command", ct);
                        break;
                    case "MAIL":
                        from = Address(line);
                        await ReplyAsync(stream, "250 2.1.0 Ok", ct);
                        break;
                    case "RCPT" when from is null:
                        await ReplyAsync(stream, "503 5.5.1 Error: need MAIL command", ct);
                        break;
                    case "RCPT":
                        var recipient = Address(line);
                        var reply = RecipientReply(recipient);
                        if (reply is null) to.Add(recipient);
                        await ReplyAsync(stream, reply ?? "250 2.1.5 Ok", ct);
                        break;
                    case "DATA" when to.Count == 0:
                        await ReplyAsync(stream, "554 5.5.1 Error: no valid recipients", ct);
                        break;
                    case "DATA":
                        await ReplyAsync(stream, "354 End data with <CR><LF>.<CR><LF>", ct);
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(ct) is { } dataLine && dataLine != ".")
                            data.Append(dataLine.StartsWith('.') ? dataLine[1..] : dataLine).Append("\r\n"); // RFC 5321 §4.5.2
                        messages.Enqueue(new ReceivedMail(from!, [.. to], data.ToString(), secure));
                        from = null;
                        to.Clear();
                        await ReplyAsync(stream, "250 2.0.0 Ok: queued", ct);
                        break;
                    case "RSET":
                        from = null;
                        to.Clear();
                        await ReplyAsync(stream, "250 2.0.0 Ok", ct);
                        break;
                    case "NOOP":
                        await ReplyAsync(stream, "250 2.0.0 Ok", ct);
                        break;
                    case "QUIT":
                        await ReplyAsync(stream, "221 2.0.0 Bye", ct);
                        return;
                    default:
                        await ReplyAsync(stream, "502 5.5.2 Error: command not recognized", ct);
                        break;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // The client went away (or failed its TLS handshake): the session simply ends, as on a real server.
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    private static string Address(string line)
    {
        var (start, end) = (line.IndexOf('<'), line.IndexOf('>'));
        return start >= 0 && end > start ? line[(start + 1)..end] : "";
    }

    private static async Task ReplyAsync(Stream stream, string reply, CancellationToken ct)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n"), ct);
        await stream.FlushAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        await accepting;
        await Task.WhenAll(sessions);
        stopping.Dispose();
    }
}

public sealed record ReceivedMail(string From, IReadOnlyList<string> To, string Data, bool OverTls);
