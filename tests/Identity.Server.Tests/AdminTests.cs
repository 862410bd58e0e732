using System.Net;
using Grpc.Health.V1;
using Identity.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Identity.Server.Tests;

public sealed class AdminTests
{
    [Fact]
    public async Task Admin_ping_live_ready_when_issuer_loaded()
    {
        await using var server = await TestServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal("pong\n", await server.Admin.GetStringAsync("/ping", ct));
        Assert.Equal("ok\n", await server.Admin.GetStringAsync("/live", ct));
        var ready = await server.Admin.GetAsync("/ready", ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ok\n", await ready.Content.ReadAsStringAsync(ct));
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync("/nope", ct)).StatusCode);
    }

    [Fact]
    public async Task Admin_ready_is_500_until_issuer_loads_then_ok_after_reload()
    {
        await using var server = await TestServer.StartAsync(writeIssuer: false);
        var ct = TestContext.Current.CancellationToken;
        var ready = await server.Admin.GetAsync("/ready", ct);
        Assert.Equal(HttpStatusCode.InternalServerError, ready.StatusCode);
        Assert.Equal("not ready\n", await ready.Content.ReadAsStringAsync(ct));

        var health = new Health.HealthClient(server.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing,
            (await health.CheckAsync(new HealthCheckRequest(), cancellationToken: ct)).Status);

        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, server.Issuer.CertificatePem, server.Issuer.KeyPem);
        IdentityServerHost.ReloadIssuer(server.App);
        Assert.Equal("ok\n", await server.Admin.GetStringAsync("/ready", ct));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest(), cancellationToken: ct)).Status);
    }

    [Fact]
    public void Build_without_token_validator_fails_with_clear_message()
    {
        var builder = IdentityServerHost.CreateBuilder(o => { o.ControllerNamespace = "linkerd"; o.TrustDomain = "cluster.local"; });
        var error = Assert.Throws<InvalidOperationException>(() => IdentityServerHost.Build(builder));
        Assert.Contains("No token validator is registered", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_with_invalid_options_fails_listing_every_problem()
    {
        var builder = IdentityServerHost.CreateBuilder(o =>
        {
            o.Addr = "127.0.0.1:0";
            o.AdminAddr = "nonsense";
            o.ControllerNamespace = "Linkerd_NS";
            o.TrustDomain = "-bad-.local";
            o.IssuanceLifetime = TimeSpan.Zero;
            o.ClockSkewAllowance = TimeSpan.FromSeconds(-1);
            o.IdentityScheme = "";
            o.MaxConcurrentCertify = -1;
            o.CertifyQueue = -2;
            o.MaxConcurrentStreams = 0;
            o.MaxConnections = -3;
        });
        builder.Services.AddSingleton<Identity.Server.Tokens.ITokenValidator>(new TestTokenValidator());
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = IdentityServerHost.Build(builder);
            await app.StartAsync(TestContext.Current.CancellationToken);
        });
        Assert.Contains("-admin-addr: 'nonsense' is not a listen address of the form [host]:port", error.Failures);
        Assert.Contains("-controller-namespace: 'Linkerd_NS' must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)", error.Failures);
        Assert.Contains("-identity-trust-domain: '-bad-.local' must be a DNS-1123 subdomain (e.g. cluster.local)", error.Failures);
        Assert.Contains("-identity-issuance-lifetime: must be positive, got 0s", error.Failures);
        Assert.Contains("-identity-clock-skew-allowance: must be between 0s and 1h, got -1s", error.Failures);
        Assert.Contains("-identity-scheme: must not be empty (use linkerd.io/tls or kubernetes.io/tls)", error.Failures);
        Assert.Contains("-max-concurrent-certify: must be positive, or 0 for the default (16 per core), got -1", error.Failures);
        Assert.Contains("-certify-queue: must be positive, or 0 for the default (4096), got -2", error.Failures);
        Assert.Contains("-max-concurrent-streams: must be positive, got 0", error.Failures);
        Assert.Contains("-max-connections: must be positive, or 0 for no limit, got -3", error.Failures);
    }
}
