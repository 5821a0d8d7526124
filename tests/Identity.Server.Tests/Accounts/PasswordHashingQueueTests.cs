using System.Net;
using System.Net.Http.Json;
using Identity.Server.Accounts;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests.Accounts;

/// <summary>
/// Sign-ins verify password hashes a few at a time; one whose client gives up while it waits for its turn is never
/// hashed, so a crowd of abandoned sign-ins (clients timing out under load) costs no CPU — on the password grant and on
/// the login page alike, and a registration likewise. Each test keeps every hashing thread of its own host busy, so that
/// its request is sure to wait.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PasswordHashingQueueTests(ServerFixture server)
{
    private readonly TestData data = new(server);

    [Theory]
    [InlineData("password grant")]
    [InlineData("login page")]
    public async Task SignInWhoseClientHasGone_LeavesTheQueueWithoutBeingVerified(string channel)
    {
        await using var host = server.WithSettings(new Dictionary<string, string?>());
        var (client, user) = (await data.ClientAsync(), await data.UserAsync());
        var http = Client(host);
        var loginPage = channel == "login page" ? await http.GetStringAsync("/account/login") : null;

        // A wrong password: had it been verified, the failure would be counted towards lockout.
        await PostWhileTheQueueIsFullAsync(host, http, loginPage is null ? "/connect/token" : "/account/login", new FormUrlEncodedContent(loginPage is null
            ? ProtocolClient.Form(("grant_type", "password"), ("client_id", client.ClientId), ("client_secret", client.Secret), ("username", user.UserName),
                ("password", "not the password"))
            : [new("UserName", user.UserName), new("Password", "not the password"), new("__RequestVerificationToken", CodeFlow.Antiforgery(loginPage))]));

        Assert.Equal(0, await data.DbAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.AccessFailedCount).SingleAsync()));
        // The queue goes on.
        Assert.Equal(HttpStatusCode.OK, (await new ProtocolClient(host.HttpsClient()).PasswordGrantAsync(client, user)).Status);
    }

    [Fact]
    public async Task RegistrationWhoseClientHasGone_LeavesTheQueueWithoutCreatingTheAccount()
    {
        // A new password is hashed in the same queue (registration, change, reset).
        await using var host = server.WithSettings(new Dictionary<string, string?>());
        var email = AccountApi.NewEmail();

        await PostWhileTheQueueIsFullAsync(host, Client(host), "/api/account/register", JsonContent.Create(new { email, password = TestData.DefaultPassword }));

        Assert.False(await data.DbAsync(db => db.Users.AnyAsync(u => u.Email == email)));
    }

    private static HttpClient Client(WebApplicationFactory<Program> host) =>
        host.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost"), AllowAutoRedirect = false });

    /// <summary>
    /// Sends the request while every hashing thread of the host is busy, from a client that gives up after a second;
    /// the server must give the request up too, before its turn comes. Then frees the queue and lets it settle.
    /// </summary>
    private static async Task PostWhileTheQueueIsFullAsync(WebApplicationFactory<Program> host, HttpClient http, string path, HttpContent body)
    {
        var queue = host.Services.GetRequiredService<PasswordHashingQueue>();
        using var release = new ManualResetEventSlim();
        var occupying = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => queue.RunAsync(() => release.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None)).ToList();
        using (var gone = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            var post = http.PostAsync(path, body, gone.Token);
            // The in-memory client returns only once the server has given up the request: bounded, so that a request
            // still waiting for its turn fails the test instead of hanging it.
            var settled = await Task.WhenAny(post, Task.Delay(TimeSpan.FromSeconds(10))) == post;
            release.Set();
            Assert.True(settled, "The request went on waiting for its turn after its client had gone.");
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => post);
        }
        await Task.WhenAll(occupying);
        await Task.Delay(TimeSpan.FromSeconds(1));
    }
}
