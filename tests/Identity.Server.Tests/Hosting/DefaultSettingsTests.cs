using Identity.Server.Hosting;
using Identity.Server.Protocol.Clients;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;

namespace Identity.Server.Tests.Hosting;

/// <summary>SPEC §5's defaults as configuration sees them: under whatever an operator adds, never merged into it.</summary>
public sealed class DefaultSettingsTests
{
    private static IConfiguration Configure(string environment, Dictionary<string, string?> operator_) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(DefaultSettings.For(new HostingEnvironment { EnvironmentName = environment }))
            .AddInMemoryCollection(operator_)
            .Build();

    [Fact]
    public void InDevelopment_AClientDeclaredAtIndexZero_IsAddedBesideTheSpa_NotMergedIntoIt()
    {
        // The SPA was declared at index 0: an operator's first client took its redirect URI, grants and RequireConsent=false.
        var configuration = Configure(Environments.Development, new()
        {
            ["Identity:Clients:0:ClientId"] = "web",
            ["Identity:Clients:0:Type"] = "confidential",
            ["Identity:Clients:0:AllowedGrantTypes:0"] = "client_credentials",
        });

        var clients = configuration.GetSection("Identity:Clients").Get<List<ClientDefinition>>()!;

        Assert.Equal(["spa", "web"], clients.Select(c => c.ClientId).Order());
        var web = clients.Single(c => c.ClientId == "web");
        Assert.Equal(["client_credentials"], web.AllowedGrantTypes);
        Assert.Empty(web.RedirectUris);
        Assert.Empty(web.AllowedScopes);
        Assert.True(web.RequireConsent);
    }

    [Fact]
    public void ConfiguredSelfServiceRoles_ReplaceTheDefault()
    {
        var configuration = Configure(Environments.Production, new() { ["Accounts:SelfServiceRoles:0"] = "customer" });

        Assert.Equal(["customer"], configuration.GetSection("Accounts:SelfServiceRoles").Get<string[]>()!);
        Assert.Equal(["user"], Configure(Environments.Production, []).GetSection("Accounts:SelfServiceRoles").Get<string[]>()!);
    }
}
