using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Identity.Server.Tests.Infrastructure;

/// <summary>
/// The server on a real Kestrel socket, with its own database and SMTP catcher, so that a real browser can follow the
/// links in real emails; plus headless Chromium (Debian's chromium + chromium-driver) driven by Selenium.
/// </summary>
public sealed class BrowserHost : IAsyncLifetime
{
    public ConfiguredServer Server { get; private set; } = null!;
    public MailCatcher Mail { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    private TestPostgres.Server postgres = null!;
    private string database = "";

    public async Task InitializeAsync()
    {
        postgres = await TestPostgres.GetAsync();
        database = await postgres.CreateDatabaseAsync("browser");
        Mail = await MailCatcher.StartAsync();
        var port = TestHosts.FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        Server = ConfiguredServer.OnPostgres(postgres.ConnectionString(database), new Dictionary<string, string?>
        {
            ["Identity:Issuer"] = BaseAddress.ToString(),
            ["Identity:RequireHttps"] = "false",
            ["Identity:Scopes:0:Name"] = TestData.ApiScope,
            ["Identity:Scopes:0:Resources:0"] = TestData.ApiResource,
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = Mail.SmtpPort.ToString(),
            ["Email:Smtp:Security"] = "None",
            ["Jobs:Email:Interval"] = "00:00:00.200",
        });
        Server.UseKestrel(port);
        Server.StartServer();
        Http = new HttpClient { BaseAddress = BaseAddress };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        await Mail.DisposeAsync();
        await postgres.DropDatabaseAsync(database);
    }

    public static IWebDriver StartBrowser()
    {
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1024,900",
            $"--user-data-dir={Directory.CreateTempSubdirectory("identity-chromium").FullName}");
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        return driver;
    }

}
