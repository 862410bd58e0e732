using Identity.Cli.Demo;
using Identity.Server.Events;
using Identity.Server.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Identity.Kubernetes.Tests;

public sealed class StartupTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("k8s-startup").FullName;
    private FakeKubernetesApi _api = null!;

    public async ValueTask InitializeAsync() => _api = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static IHost BuildHost(Action<IServiceCollection> configure)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.ClearProviders();
        configure(builder.Services);
        return builder.Build();
    }

    [Fact]
    public async Task Access_check_sends_the_linkerd_question_and_passes_when_allowed()
    {
        await KubernetesAccessCheck.EnsureCanCreateTokenReviewsAsync(_api.CreateClient(), TestContext.Current.CancellationToken);

        var review = Assert.Single(_api.AccessReviews);
        var attributes = review["spec"]!["resourceAttributes"]!;
        Assert.Equal("SelfSubjectAccessReview", review["kind"]!.GetValue<string>());
        Assert.Equal("create", attributes["verb"]!.GetValue<string>());
        Assert.Equal("authentication.k8s.io", attributes["group"]!.GetValue<string>());
        Assert.Equal("v1", attributes["version"]!.GetValue<string>());
        Assert.Equal("tokenreviews", attributes["resource"]!.GetValue<string>());
    }

    [Fact]
    public async Task Access_check_denied_is_a_clear_failure()
    {
        _api.OnAccessReview = _ => FakeKubernetesApi.AccessReply(false, "RBAC: no rule allows it");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(
            () => KubernetesAccessCheck.EnsureCanCreateTokenReviewsAsync(_api.CreateClient(), TestContext.Current.CancellationToken));

        Assert.Equal("Unable to create kubernetes token reviews: not authorized to create tokenreviews.authentication.k8s.io: RBAC: no rule allows it", e.Message);
    }

    [Fact]
    public async Task Host_start_fails_when_token_reviews_are_not_allowed()
    {
        _api.OnAccessReview = _ => FakeKubernetesApi.AccessReply(false, "");
        var kubeconfig = _api.WriteKubeconfig(_dir);
        using var host = BuildHost(s => s.AddIdentityTokenValidation(o => o.Kubeconfig = kubeconfig));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal("Unable to create kubernetes token reviews: not authorized to create tokenreviews.authentication.k8s.io", e.Message);
    }

    [Fact]
    public async Task Kubeconfig_host_reviews_through_the_cache()
    {
        var kubeconfig = _api.WriteKubeconfig(_dir);
        using var host = BuildHost(s => s.AddIdentityTokenValidation(o =>
        {
            o.Kubeconfig = kubeconfig;
            o.Qps = 50;
            o.Burst = 5;
        }));
        await host.StartAsync(TestContext.Current.CancellationToken);
        var validator = host.Services.GetRequiredService<ITokenValidator>();
        var token = TestSupport.Bytes(TestSupport.OpaqueJwt(DateTimeOffset.UtcNow.AddHours(1)));

        var first = await validator.ReviewAsync(token, TestContext.Current.CancellationToken);
        var second = await validator.ReviewAsync(token, TestContext.Current.CancellationToken);

        Assert.IsType<CachingTokenValidator>(validator);
        Assert.Equal("system:serviceaccount:default:default", first.Username);
        Assert.Equal(first, second);
        Assert.Equal(1, _api.ReviewCount);
        Assert.Single(_api.AccessReviews);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Outside_a_cluster_without_kubeconfig_the_client_error_is_clear()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST") is not null, "running inside a cluster");

        var e = Assert.Throws<InvalidOperationException>(() => KubernetesClientFactory.Create(kubeconfig: null, qps: 100, burst: 200));

        Assert.StartsWith("Unable to load Kubernetes client configuration from the in-cluster configuration: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_kubeconfig_error_names_the_file()
    {
        var path = Path.Combine(_dir, "broken");
        File.WriteAllText(path, "clusters: [ {");

        var e = Assert.Throws<InvalidOperationException>(() => KubernetesClientFactory.Create(path, 100, 200));

        Assert.StartsWith($"Unable to load Kubernetes client configuration from kubeconfig '{path}': ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jwks_mode_without_issuer_fails_validation_at_start()
    {
        using var host = BuildHost(s => s.AddIdentityTokenValidation(o => o.Mode = TokenValidationMode.Jwks));

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("token-issuer is required with -token-validation jwks", e.Failures);
    }

    [Theory]
    [InlineData("qps", "kube-apiclient-qps must be a positive number, got 0")]
    [InlineData("burst", "kube-apiclient-burst must be at least 1, got 0")]
    [InlineData("concurrency", "MaxConcurrentReviews must be at least 1, got 0")]
    [InlineData("cache", "CacheSize must be at least 1, got 0")]
    [InlineData("kubeconfig", "kubeconfig file '/nonexistent/kubeconfig' does not exist")]
    [InlineData("jwks", "jwks: 'http://example.com/jwks' must use https (plain http is only allowed for loopback hosts)")]
    [InlineData("jwks-file", "jwks file '/nonexistent/jwks.json' does not exist")]
    public async Task Invalid_options_fail_the_start_with_a_precise_message(string field, string message)
    {
        using var host = BuildHost(s => s.AddIdentityTokenValidation(o =>
        {
            o.CheckAccessOnStart = false;
            switch (field)
            {
                case "qps": o.Qps = 0; break;
                case "burst": o.Burst = 0; break;
                case "concurrency": o.MaxConcurrentReviews = 0; break;
                case "cache": o.CacheSize = 0; break;
                case "kubeconfig": o.Kubeconfig = "/nonexistent/kubeconfig"; break;
                default:
                    o.Mode = TokenValidationMode.Jwks;
                    o.TokenIssuer = "https://kubernetes.default.svc";
                    o.Jwks = field == "jwks" ? "http://example.com/jwks" : "/nonexistent/jwks.json";
                    break;
            }
        }));

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal([message], e.Failures);
    }

    [Fact]
    public async Task Jwks_mode_host_validates_tokens_from_a_jwks_file()
    {
        using var issuer = new ServiceAccountTokenIssuer("https://cluster-east.example");
        var jwks = Path.Combine(_dir, "jwks.json");
        issuer.WriteJwks(jwks);
        using var host = BuildHost(s => s.AddIdentityTokenValidation(o =>
        {
            o.Mode = TokenValidationMode.Jwks;
            o.TokenIssuer = issuer.Issuer;
            o.Jwks = jwks;
        }));
        await host.StartAsync(TestContext.Current.CancellationToken);
        var validator = host.Services.GetRequiredService<ITokenValidator>();

        var result = await validator.ReviewAsync(TestSupport.Bytes(issuer.Mint("emojivoto", "web")), TestContext.Current.CancellationToken);

        Assert.Equal("system:serviceaccount:emojivoto:web", result.Username);
        Assert.Empty(_api.AccessReviews);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Events_host_registers_the_kubernetes_sink()
    {
        var kubeconfig = _api.WriteKubeconfig(_dir);
        using var host = BuildHost(s => s.AddKubernetesEvents(o =>
        {
            o.Kubeconfig = kubeconfig;
            o.Namespace = "linkerd-east";
        }));
        await host.StartAsync(TestContext.Current.CancellationToken);

        host.Services.GetRequiredService<IIssuerEventSink>().IssuerUpdated();
        await _api.WaitForEventsAsync(1, TestContext.Current.CancellationToken);

        var (ns, e) = Assert.Single(_api.Events);
        Assert.Equal("linkerd-east", ns);
        Assert.Equal("IssuerUpdated", e["reason"]!.GetValue<string>());
        await host.StopAsync(TestContext.Current.CancellationToken);
    }
}
