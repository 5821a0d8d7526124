using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Server.Tests.Accounts;

[Collection(ServerCollection.Name)]
public sealed class RegistrationTests(ServerFixture server)
{
    private readonly AccountApi api = new(server.CreateClient(), server.Mail);
    private readonly TestData data = new(server);

    [Fact]
    public async Task Register_Answers201WithTheProfile_AndQueuesAConfirmationLink()
    {
        var email = AccountApi.NewEmail();

        var (response, json) = await api.RegisterAsync(email);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(email, json.GetProperty("email").GetString());
        Assert.Equal(email, json.GetProperty("userName").GetString());
        Assert.Equal("Grace", json.GetProperty("firstName").GetString());
        Assert.Equal("Hopper", json.GetProperty("lastName").GetString());
        Assert.False(json.GetProperty("emailConfirmed").GetBoolean());
        Assert.Equal(["user"], json.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("id").GetString()));
        Assert.True(json.GetProperty("createdAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        var link = await api.LinkAsync(email, "/account/confirm-email");
        Assert.Equal("https://localhost/account/confirm-email", link.Uri.GetLeftPart(UriPartial.Path));
        Assert.Equal(json.GetProperty("id").GetString(), link.UserId);
    }

    [Fact]
    public async Task TakenEmail_Is409()
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        var (response, json) = await api.RegisterAsync(email.ToUpperInvariant());
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(json.GetProperty("errors").TryGetProperty("email", out _));
    }

    [Fact]
    public async Task OneEmailRegisteredSeveralTimesAtOnce_CreatesOneAccount_AndAnswersTheOthers409()
    {
        for (var round = 0; round < 3; round++)
        {
            var email = AccountApi.NewEmail();

            // Some pass the look for a taken email before any has committed: then the unique index decides.
            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => api.RegisterAsync(email)));

            Assert.Equal(1, responses.Count(r => r.Response.StatusCode == HttpStatusCode.Created));
            Assert.All(responses.Where(r => r.Response.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.Response.StatusCode));
            Assert.Equal(1, await data.DbAsync(db => db.Users.CountAsync(u => u.NormalizedEmail == email.ToUpperInvariant())));
        }
    }

    [Fact]
    public async Task TakenUserName_Is409()
    {
        var userName = $"taken{Guid.NewGuid():N}"[..20];
        await api.SendAsync(HttpMethod.Post, "/api/account/register", new { email = AccountApi.NewEmail(), password = TestData.DefaultPassword, userName });
        var (response, _) = await api.SendAsync(HttpMethod.Post, "/api/account/register", new { email = AccountApi.NewEmail(), password = TestData.DefaultPassword, userName });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task RoleOutsideTheSelfServiceList_Is400_AndCreatesNothing()
    {
        var email = AccountApi.NewEmail();
        var (response, json) = await api.RegisterAsync(email, role: "admin");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(json.GetProperty("errors").TryGetProperty("role", out _));
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == email)));
    }

    [Fact]
    public async Task ConfiguredSelfServiceRoles_ReplaceTheDefault()
    {
        // The binder appended configured roles to an initialised ["user"]: "user" stayed self-service, and was given.
        var name = await server.Postgres.CreateDatabaseAsync("roles");
        try
        {
            await using var node = ConfiguredServer.OnPostgres(server.Postgres.ConnectionString(name),
                new Dictionary<string, string?> { ["Accounts:SelfServiceRoles:0"] = "customer" });
            var other = new AccountApi(node.CreateClient(), server.Mail);

            var (asUser, refusal) = await other.RegisterAsync(AccountApi.NewEmail(), role: "user");
            var (plain, profile) = await other.RegisterAsync(AccountApi.NewEmail());

            Assert.Equal(HttpStatusCode.BadRequest, asUser.StatusCode);
            Assert.Equal("Registration may ask only for: customer.", refusal.GetProperty("errors").GetProperty("role")[0].GetString());
            Assert.Equal(HttpStatusCode.Created, plain.StatusCode);
            Assert.Equal(["customer"], profile.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        }
        finally
        {
            await server.Postgres.DropDatabaseAsync(name);
        }
    }

    [Theory]
    [InlineData("short7!", "password")]
    [InlineData("password1", "password")]
    [InlineData("qwertyuiop", "password")]
    public async Task WeakPassword_Is400OnThePasswordField(string password, string field)
    {
        var email = AccountApi.NewEmail();
        var (response, json) = await api.RegisterAsync(email, password);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(json.GetProperty("errors").TryGetProperty(field, out _), json.GetRawText());
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == email)));
    }

    [Fact]
    public async Task LongPassphraseWithoutCompositionRules_IsAccepted()
    {
        var (response, _) = await api.RegisterAsync(AccountApi.NewEmail(), new string('x', 40) + " lowercase words only " + new string('y', 20));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task PasswordOverTheMaximum_Is400()
    {
        var (response, _) = await api.RegisterAsync(AccountApi.NewEmail(), new string('z', 129));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task PasswordLength_CountsCharacters_NotUtf16Units()
    {
        // ASVS 5 §6.2.1, NIST SP 800-63B §5.1.1.2: each emoji is one character (and two UTF-16 code units).
        var (four, fourJson) = await api.RegisterAsync(AccountApi.NewEmail(), "😀😁😂🤣");
        var (eight, _) = await api.RegisterAsync(AccountApi.NewEmail(), "😀😁😂🤣🥲😊😇🙂");
        var (longest, _) = await api.RegisterAsync(AccountApi.NewEmail(), string.Concat(Enumerable.Repeat("😀", 128)));
        var (tooLong, tooLongJson) = await api.RegisterAsync(AccountApi.NewEmail(), string.Concat(Enumerable.Repeat("😀", 129)));

        Assert.Equal(HttpStatusCode.BadRequest, four.StatusCode);
        Assert.Contains("at least 8 characters", fourJson.GetProperty("errors").GetProperty("password")[0].GetString());
        Assert.Equal(HttpStatusCode.Created, eight.StatusCode);
        Assert.Equal(HttpStatusCode.Created, longest.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("at most 128 characters", tooLongJson.GetProperty("errors").GetProperty("password")[0].GetString());
    }

    [Theory]
    [InlineData("correct horse\0battery staple")]
    [InlineData("correct horse\tbattery staple")]
    [InlineData("correct horse battery staple\n")]
    [InlineData("correct horse\u007Fbattery staple")]
    [InlineData("correct horse\u0085battery staple")]
    public async Task PasswordWithAControlCharacter_Is400SayingSo_AndCreatesNothing(string escaped)
    {
        // Accepted, it could never be typed into the login form (whose parser refuses NUL, and whose field has no tabs or lines).
        var email = AccountApi.NewEmail();
        var password = System.Text.RegularExpressions.Regex.Unescape(escaped);

        var (response, json) = await api.RegisterAsync(email, password);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = Assert.Single(json.GetProperty("errors").EnumerateObject());
        Assert.Equal("password", error.Name);
        Assert.Contains("control characters", error.Value[0].GetString());
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == email)));
    }

    [Fact]
    public async Task PasswordOfSpacesOnly_Is400SayingSo()
    {
        var (response, json) = await api.RegisterAsync(AccountApi.NewEmail(), new string(' ', 12));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = Assert.Single(json.GetProperty("errors").GetProperty("password").EnumerateArray()).GetString();
        Assert.Contains("spaces", message);
        Assert.DoesNotContain("required", message);
    }

    [Fact]
    public async Task PasswordWithSpacesAndJoinedEmoji_IsAccepted()
    {
        // Zero-width joiners and variation selectors (format characters) are part of what people type, unlike control characters.
        var (response, _) = await api.RegisterAsync(AccountApi.NewEmail(), "  family 👨‍👩‍👧 heart ❤️  ");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task UserNameThatIsAnotherEmailAddress_Is400_AndTheAddressStaysRegistrable()
    {
        // Taken as a user name, the address's owner could not register it ("user name taken"), and signing in with it
        // would reach the wrong account.
        var (attacker, victim) = (AccountApi.NewEmail(), AccountApi.NewEmail());

        var (response, json) = await api.SendAsync(HttpMethod.Post, "/api/account/register", new { email = attacker, password = TestData.DefaultPassword, userName = victim.ToUpperInvariant() });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("userName", Assert.Single(json.GetProperty("errors").EnumerateObject()).Name);
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == attacker)));
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(victim)).Response.StatusCode);
    }

    [Fact]
    public async Task UserNameThatIsTheOwnEmailAddress_IsAccepted()
    {
        var email = AccountApi.NewEmail();
        var (response, json) = await api.SendAsync(HttpMethod.Post, "/api/account/register", new { email, password = TestData.DefaultPassword, userName = email.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(email.ToUpperInvariant(), json.GetProperty("userName").GetString());
    }

    [Theory]
    [InlineData("not-an-email")]
    [InlineData("")]
    [InlineData("two words-{0}@example.test")] // [EmailAddress] took these: the mail library then refused every email to them
    [InlineData("x-{0}@exa mple.test")]
    [InlineData(" padded-{0}@example.test")]
    [InlineData("dots..{0}@example.test")]
    [InlineData("x-{0}@example.test.")]
    [InlineData("x-{0}@-example.test")]
    [InlineData("\"quoted {0}\"@example.test")]
    [InlineData("x-{0}@example.test\r\nBcc: y@example.test")]
    public async Task InvalidEmail_Is400OnTheEmailField_AndCreatesNothing(string template)
    {
        var email = string.Format(template, Guid.NewGuid().ToString("N"));

        var (response, json) = await api.RegisterAsync(email);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("email", Assert.Single(json.GetProperty("errors").EnumerateObject()).Name);
        Assert.Equal(0, await data.DbAsync(db => db.Users.CountAsync(u => u.Email == email)));
    }

    [Theory]
    [InlineData("o'brien+tag-{0}@example.test")]
    [InlineData("jörg-{0}@bücher.example")]
    [InlineData("root-{0}@localhost")]
    public async Task UnusualButDeliverableEmail_Registers_AndBecomesTheUserName(string template)
    {
        // The user name defaults to the email; Identity's default user-name characters lacked ' and ö.
        var email = string.Format(template, Guid.NewGuid().ToString("N"));

        var (response, json) = await api.RegisterAsync(email);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(email, json.GetProperty("userName").GetString());
    }

    [Fact]
    public async Task ValidationErrors_NameTheMembersAsClientsSendThem()
    {
        var (response, json) = await api.SendAsync(HttpMethod.Post, "/api/account/register",
            new { email = AccountApi.NewEmail(), password = TestData.DefaultPassword, firstName = new string('a', 101), lastName = new string('b', 101) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["firstName", "lastName"], json.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order());
        // The messages too: "The field FirstName …" named the server's property, not the member.
        Assert.Contains(" firstName ", json.GetProperty("errors").GetProperty("firstName")[0].GetString());

        var (_, missing) = await api.SendAsync(HttpMethod.Post, "/api/account/register", new { password = TestData.DefaultPassword });
        Assert.Equal("The email field is required.", missing.GetProperty("errors").GetProperty("email")[0].GetString());
    }

    [Fact]
    public async Task MalformedJson_Is400ProblemDetails()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/account/register")
        {
            Content = new StringContent("{\"email\": ", System.Text.Encoding.UTF8, "application/json"),
        };
        var response = await server.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task FormBody_Is415()
    {
        var response = await server.CreateClient().PostAsync("/api/account/register", new FormUrlEncodedContent([new("email", "a@b.c")]));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task NewUser_CannotGetTokensBeforeConfirming_ThenCan()
    {
        var email = AccountApi.NewEmail();
        await api.RegisterAsync(email);
        var client = await data.ClientAsync();
        var protocol = new ProtocolClient(server.CreateClient());
        var user = new TestUser("", email, email, TestData.DefaultPassword);
        Assert.Equal("invalid_grant", (await protocol.PasswordGrantAsync(client, user)).Error);

        var link = await api.LinkAsync(email, "/account/confirm-email");
        var (confirmed, _) = await api.SendAsync(HttpMethod.Get, $"/api/account/confirm-email?userId={link.UserId}&token={Uri.EscapeDataString(link.Token)}");

        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await protocol.PasswordGrantAsync(client, user)).Status);
    }
}
