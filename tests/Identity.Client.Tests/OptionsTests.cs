using Identity.Client.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Identity.Client.Tests;

public sealed class OptionsTests
{
    private static IdentityClientOptions Valid()
    {
        using var root = new TestPki(DateTimeOffset.UtcNow).Root("root");
        return new IdentityClientOptions
        {
            Address = new Uri("http://127.0.0.1:8080"),
            LocalIdentity = Harness.LocalIdentity,
            TokenFile = "/tmp/token",
            TrustAnchorsPem = root.Certificate.ExportCertificatePem(),
        };
    }

    [Fact]
    public void Defaults_match_the_documentation()
    {
        var o = new IdentityClientOptions();
        Assert.Equal(TimeSpan.FromSeconds(10), o.CallTimeout);
        Assert.Equal(0.7, o.RefreshFraction);
        Assert.Equal(TimeSpan.FromSeconds(10), o.MinRefresh);
        Assert.Equal(TimeSpan.FromHours(24), o.MaxRefresh);
        Assert.Equal(TimeSpan.FromSeconds(1), o.InitialRetryDelay);
        Assert.Equal(2.0, o.RetryBackoffMultiplier);
        Assert.Equal(TimeSpan.FromSeconds(60), o.MaxRetryDelay);
        Assert.Equal("/var/run/secrets/tokens/linkerd-identity-token", o.TokenFile);
    }

    [Fact]
    public void Valid_options_pass()
    {
        Assert.True(new IdentityClientOptionsValidator().Validate(null, Valid()).Succeeded);
    }

    public static TheoryData<string, string> Invalid => new()
    {
        { "no-address", "Address is required" },
        { "ftp-address", "must be an absolute http:// or https:// URI" },
        { "https-no-server-identity", "ServerIdentity must be a DNS name" },
        { "bad-identity", "LocalIdentity 'not a name' must be a DNS name" },
        { "no-token-file", "TokenFile is required" },
        { "no-anchors", "TrustAnchorsPem is required" },
        { "garbage-anchors", "contains no CERTIFICATE block" },
        { "min-over-max", "MinRefresh (1.00:00:00) must not exceed MaxRefresh" },
        { "fraction", "RefreshFraction (1) must be between 0 and 1" },
        { "zero-timeout", "CallTimeout (00:00:00) must be positive" },
        { "multiplier", "RetryBackoffMultiplier (0.5) must be between 1 and 100" },
        { "initial-over-cap", "InitialRetryDelay (00:02:00) must not exceed MaxRetryDelay" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_options_fail_with_a_clear_message(string mistake, string expected)
    {
        var o = Valid();
        switch (mistake)
        {
            case "no-address": o.Address = null; break;
            case "ftp-address": o.Address = new Uri("ftp://x"); break;
            case "https-no-server-identity": o.Address = new Uri("https://identity:8080"); break;
            case "bad-identity": o.LocalIdentity = "not a name"; break;
            case "no-token-file": o.TokenFile = " "; break;
            case "no-anchors": o.TrustAnchorsPem = string.Empty; break;
            case "garbage-anchors": o.TrustAnchorsPem = "hello"; break;
            case "min-over-max": o.MinRefresh = TimeSpan.FromDays(1); o.MaxRefresh = TimeSpan.FromHours(1); break;
            case "fraction": o.RefreshFraction = 1; break;
            case "zero-timeout": o.CallTimeout = TimeSpan.Zero; break;
            case "multiplier": o.RetryBackoffMultiplier = 0.5; break;
            case "initial-over-cap": o.InitialRetryDelay = TimeSpan.FromMinutes(2); break;
        }

        var result = new IdentityClientOptionsValidator().Validate(null, o);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Client_constructor_refuses_invalid_options()
    {
        var o = Valid();
        o.LocalIdentity = string.Empty;

        var ex = Assert.Throws<OptionsValidationException>(() => new IdentityClient(Options.Create(o)));
        Assert.Contains("LocalIdentity", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddIdentityClient_validates_on_start()
    {
        var services = new ServiceCollection();
        services.AddIdentityClient(o => o.Address = new Uri("http://127.0.0.1:1"));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("LocalIdentity", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddIdentityClient_resolves_a_working_client()
    {
        var valid = Valid();
        var services = new ServiceCollection();
        services.AddIdentityClient(o =>
        {
            o.Address = valid.Address;
            o.LocalIdentity = valid.LocalIdentity;
            o.TrustAnchorsPem = valid.TrustAnchorsPem;
        });
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        var client = provider.GetRequiredService<IdentityClient>();
        Assert.Same(client, provider.GetRequiredService<IWorkloadCredentialsProvider>());
        Assert.Equal(Harness.LocalIdentity, client.LocalIdentity);
        Assert.Null(client.Current);
    }
}
