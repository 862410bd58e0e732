using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Cli.Serve;
using Identity.Server.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Identity.Cli.Tests.Serve;

public sealed class ServeCommandTests
{
    private sealed class AcceptAll : ITokenValidator
    {
        public ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken) =>
            ValueTask.FromResult(TokenReviewResult.Success("system:serviceaccount:default:default", null));
    }

    private static ServeSettings? Parse(string[] args, out string stderr)
    {
        var root = new RootCommand { ServeCommand.Create() };
        var writer = new StringWriter();
        var settings = ServeCommand.TryGetSettings(root.Parse(["serve", .. args]), writer);
        stderr = writer.ToString();
        return settings;
    }

    [Fact]
    public void The_charts_first_argument_identity_runs_serve()
    {
        var root = Commands.CreateRoot();
        var writer = new StringWriter();
        var parse = root.Parse(Commands.FromLinkerdChart(
            ["identity", "-controller-namespace=linkerd", "-identity-trust-domain=cluster.local", "-identity-issuance-lifetime=24h0m0s"]));
        Assert.Empty(parse.Errors);
        Assert.Equal("serve", parse.CommandResult.Command.Name);
        var settings = ServeCommand.TryGetSettings(parse, writer);
        Assert.NotNull(settings);
        Assert.Equal("", writer.ToString());
        Assert.Equal(("linkerd", "cluster.local", TimeSpan.FromHours(24)),
            (settings.Server.ControllerNamespace, settings.Server.TrustDomain, settings.Server.IssuanceLifetime));
    }

    [Fact]
    public void Chart_arguments_parse_with_single_dash_and_equals()
    {
        // The arguments linkerd's chart renders for the identity container (plus our two extras).
        var settings = Parse(
        [
            "-log-level=debug", "-log-format=json", "-controller-namespace=linkerd", "-identity-trust-domain=cluster.local",
            "-identity-issuance-lifetime=24h0m0s", "-identity-clock-skew-allowance=20s", "-identity-scheme=kubernetes.io/tls",
            "-enable-pprof=false", "-kube-apiclient-qps=100", "-kube-apiclient-burst=200", "--addr", "127.0.0.1:8081",
            "-issuer", "/tmp/issuer", "-identity-trust-anchors-file=/tmp/roots.crt", "-tls",
            "-max-concurrent-certify=8", "-certify-queue", "100", "-max-concurrent-streams=50", "-max-connections=0",
        ], out var stderr);

        Assert.NotNull(settings);
        Assert.Equal("", stderr);
        Assert.Equal("127.0.0.1:8081", settings.Server.Addr);
        Assert.Equal(":9990", settings.Server.AdminAddr);
        Assert.Equal("linkerd", settings.Server.ControllerNamespace);
        Assert.Equal("cluster.local", settings.Server.TrustDomain);
        Assert.Equal("kubernetes.io/tls", settings.Server.IdentityScheme);
        Assert.Equal(("tls.crt", "tls.key"), settings.Server.IssuerFileNames);
        Assert.Equal(TimeSpan.FromHours(24), settings.Server.IssuanceLifetime);
        Assert.Equal(TimeSpan.FromSeconds(20), settings.Server.ClockSkewAllowance);
        Assert.Equal("/tmp/issuer", settings.Server.IssuerDirectory);
        Assert.Equal("/tmp/roots.crt", settings.Server.TrustAnchorsFile);
        Assert.True(settings.Server.Tls);
        Assert.Equal((8, 100, 50, 0), (settings.Server.MaxConcurrentCertify, settings.Server.CertifyQueue, settings.Server.MaxConcurrentStreams, settings.Server.MaxConnections));
        Assert.Equal(LogLevel.Debug, settings.LogLevel);
        Assert.True(settings.JsonLogs);
        Assert.Equal(new KubeApiClientSettings("", 100, 200), settings.Kube);
    }

    [Fact]
    public void Defaults_match_linkerd()
    {
        var settings = Parse([], out _);
        Assert.NotNull(settings);
        Assert.Equal(":8080", settings.Server.Addr);
        Assert.Equal(":9990", settings.Server.AdminAddr);
        Assert.Equal("linkerd.io/tls", settings.Server.IdentityScheme);
        Assert.Equal(("crt.pem", "key.pem"), settings.Server.IssuerFileNames);
        Assert.Equal(TimeSpan.FromHours(24), settings.Server.IssuanceLifetime);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.Server.ClockSkewAllowance);
        Assert.Equal("/var/run/linkerd/identity/issuer", settings.Server.IssuerDirectory);
        Assert.Equal("/var/run/linkerd/identity/trust-roots/ca-bundle.crt", settings.Server.TrustAnchorsFile);
        Assert.Equal((0, 0, 100, 512), (settings.Server.MaxConcurrentCertify, settings.Server.CertifyQueue, settings.Server.MaxConcurrentStreams, settings.Server.MaxConnections));
        Assert.Equal(LogLevel.Information, settings.LogLevel);
        Assert.False(settings.JsonLogs);
        Assert.Equal(new KubeApiClientSettings("", 100, 200), settings.Kube);
    }

    [Fact]
    public void Invalid_flags_are_errors_not_warnings()
    {
        var settings = Parse(["-identity-issuance-lifetime=1day", "-identity-clock-skew-allowance", "ten", "-log-level=loud", "-log-format=xml", "-kube-apiclient-qps=0"], out var stderr);
        Assert.Null(settings);
        Assert.Equal(
            """
            identity serve: -identity-issuance-lifetime: invalid duration '1day' (use Go syntax such as 24h0m0s, 10s or 300ms)
            identity serve: -identity-clock-skew-allowance: invalid duration 'ten' (use Go syntax such as 24h0m0s, 10s or 300ms)
            identity serve: -log-level: 'loud' is not one of panic, fatal, error, warn, info, debug, trace
            identity serve: -log-format: 'xml' is not one of plain, json
            identity serve: -kube-apiclient-qps: must be positive, got 0

            """.ReplaceLineEndings("\n"), stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Serve_without_token_validator_exits_1_with_message()
    {
        var settings = Parse(["-controller-namespace=linkerd", "-identity-trust-domain=cluster.local"], out _)!;
        var stderr = new StringWriter();
        var code = await ServeCommand.RunAsync(settings, null, stderr, TestContext.Current.CancellationToken);
        Assert.Equal(1, code);
        Assert.StartsWith("identity serve: No token validator is registered", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_with_invalid_settings_exits_1_listing_them()
    {
        var settings = Parse(["-controller-namespace=Bad_NS", "-identity-trust-domain=cluster.local", "-addr=127.0.0.1:0", "-admin-addr=127.0.0.1:0"], out _)!;
        var stderr = new StringWriter();
        var code = await ServeCommand.RunAsync(settings, (s, _) => s.AddSingleton<ITokenValidator>(new AcceptAll()), stderr, TestContext.Current.CancellationToken);
        Assert.Equal(1, code);
        Assert.Contains("identity serve: -controller-namespace: 'Bad_NS' must be a DNS-1123 label", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_runs_reports_ready_and_stops_on_cancellation()
    {
        var dir = Directory.CreateTempSubdirectory("identity-serve-").FullName;
        var now = DateTimeOffset.UtcNow;
        var pki = new TestPki(now);
        using var root = pki.Root(
            "root", now.AddHours(-1), now.AddDays(10), keyUsage: X509KeyUsageFlags.KeyCertSign, subjectKeyIdentifier: false);
        using var issuer = pki.Intermediate(
            root, notBefore: now.AddHours(-1), notAfter: now.AddDays(5), pathLength: null, keyUsage: X509KeyUsageFlags.KeyCertSign,
            authorityKeyIdentifier: false);
        Directory.CreateDirectory(Path.Combine(dir, "issuer"));
        File.WriteAllText(Path.Combine(dir, "issuer", "key.pem"), issuer.EcKey.ExportECPrivateKeyPem());
        File.WriteAllText(Path.Combine(dir, "issuer", "crt.pem"), issuer.Certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "roots.crt"), root.Certificate.ExportCertificatePem());
        var adminPort = LoopbackPort.Free();

        var settings = Parse(
        [
            "-controller-namespace=linkerd", "-identity-trust-domain=cluster.local", "-addr=127.0.0.1:0", $"-admin-addr=127.0.0.1:{adminPort}",
            $"-issuer={Path.Combine(dir, "issuer")}", $"-identity-trust-anchors-file={Path.Combine(dir, "roots.crt")}", "-log-level=error",
        ], out _)!;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var stderr = new StringWriter();
        var startedAt = System.Diagnostics.Stopwatch.StartNew();
        var run = ServeCommand.RunAsync(settings, (s, _) => s.AddSingleton<ITokenValidator>(new AcceptAll()), stderr, stop.Token);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}") };
        string? ready = null;
        for (var i = 0; i < 1000 && ready is null && !run.IsCompleted; i++)
        {
            try
            {
                ready = await http.GetStringAsync("/ready", TestContext.Current.CancellationToken);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(10, TestContext.Current.CancellationToken);
            }
        }

        Assert.Equal("ok\n", ready);
        // Reported, not asserted: the machine is shared and timing varies.
        TestContext.Current.TestOutputHelper?.WriteLine($"startup-to-ready: {startedAt.ElapsedMilliseconds} ms");
        await stop.CancelAsync();
        Assert.Equal(0, await run);
        Assert.Equal("", stderr.ToString());
        Directory.Delete(dir, recursive: true);
    }
}
