using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Identity.Server.Admin;
using Identity.Server.Certify;
using Identity.Server.Events;
using Identity.Server.Issuance;
using Identity.Server.Metrics;
using Identity.Server.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Identity.Server.Hosting;

/// <summary>
/// Builds the identity server: gRPC Certify (+ gRPC health) on <see cref="IdentityServerOptions.Addr"/> and the
/// admin endpoints on <see cref="IdentityServerOptions.AdminAddr"/>. The caller registers the
/// <see cref="ITokenValidator"/> (and optionally an <see cref="IIssuerEventSink"/>) between
/// <see cref="CreateBuilder"/> and <see cref="Build"/>.
/// </summary>
/// <example>
/// <code>
/// var builder = IdentityServerHost.CreateBuilder(o => { o.ControllerNamespace = "linkerd"; o.TrustDomain = "cluster.local"; });
/// builder.Services.AddSingleton&lt;ITokenValidator, MyValidator&gt;();
/// await using var app = IdentityServerHost.Build(builder);
/// await app.RunAsync();
/// </code>
/// </example>
public static class IdentityServerHost
{
    /// <summary>A web application builder with the server's services registered and options bound to <paramref name="configure"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(Action<IdentityServerOptions> configure, string[]? args = null)
    {
        // All settings come from flags; no appsettings.json is read. Watching configuration files for changes would
        // make the host scan its whole content root (the working directory) with inotify at start.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false", .. args ?? []],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Services.AddIdentityServer(configure);
        return builder;
    }

    /// <summary>Registers the server's services (not the token validator). Options are validated at start.</summary>
    public static IServiceCollection AddIdentityServer(this IServiceCollection services, Action<IdentityServerOptions> configure)
    {
        services.AddOptions<IdentityServerOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IdentityServerOptions>, IdentityServerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IIssuerEventSink, LoggingIssuerEventSink>();
        services.AddMetrics();
        services.TryAddSingleton<IdentityMetrics>();
        services.TryAddSingleton<IssuerStore>();
        services.AddHostedService(sp => sp.GetRequiredService<IssuerStore>());
        services.TryAddSingleton(sp => new CsrParser(sp.GetRequiredService<IOptions<IdentityServerOptions>>().Value.CsrCacheSize));
        services.TryAddSingleton<ServingCertificate>();
        // One instance for all calls (gRPC would otherwise activate a service per call); it holds no per-call state.
        services.TryAddSingleton<CertifyService>();
        services.TryAddSingleton<CertifyAdmission>();
        services.TryAddSingleton(sp => new ConnectionLimit(sp.GetRequiredService<IOptions<IdentityServerOptions>>().Value.MaxConnections));
        services.TryAddSingleton<AdminPorts>();
        services.TryAddSingleton<BoundEndpoints>();
        services.AddGrpc(o =>
        {
            // Certify requests are a token and a CSR, a few KiB; refuse anything far larger before parsing.
            o.MaxReceiveMessageSize = 64 * 1024;
        });
        // Connections beyond -max-connections wait in the kernel's accept queue before they wait in ConnectionLimit:
        // a restarting fleet dials thousands at once, and with the default 512 the surplus SYNs are dropped and each
        // proxy retries its connect a second or more later.
        services.Configure<SocketTransportOptions>(o => o.Backlog = 4096);
        services.AddGrpcHealthChecks().AddCheck<IssuerHealthCheck>("issuer");
        // No scrape-response cache: every scrape shows the current gauges (in-progress, queued), and Prometheus
        // scrapes every few seconds at most, so there is nothing to save.
        services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(IdentityMetrics.MeterName)
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>Builds the application; throws <see cref="InvalidOperationException"/> when no token validator is registered.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(d => d.ServiceType == typeof(ITokenValidator)))
        {
            throw new InvalidOperationException(
                "No token validator is registered: register an Identity.Server.Tokens.ITokenValidator (e.g. the Kubernetes TokenReview validator) before building the identity server.");
        }

        builder.WebHost.ConfigureKestrel((_, kestrel) => ConfigureKestrel(kestrel));
        var app = builder.Build();
        var adminPorts = app.Services.GetRequiredService<AdminPorts>();
        var store = app.Services.GetRequiredService<IssuerStore>();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(ctx => adminPorts.IsAdmin(ctx) && ctx.Request.Path == "/metrics");
        app.MapWhen(adminPorts.IsAdmin, admin => admin.Run(ctx => AdminEndpoints.Handle(ctx, store)));
        app.MapGrpcService<CertifyService>();
        app.MapGrpcHealthChecksService();
        return app;
    }

    /// <summary>The bound gRPC endpoint (after start; resolves port 0).</summary>
    public static IPEndPoint GetGrpcEndpoint(WebApplication app) =>
        app.Services.GetRequiredService<BoundEndpoints>().Grpc;

    /// <summary>The bound admin endpoint (after start; resolves port 0).</summary>
    public static IPEndPoint GetAdminEndpoint(WebApplication app) =>
        app.Services.GetRequiredService<BoundEndpoints>().Admin;

    /// <summary>Re-reads the issuer and anchors now (what the watcher and the periodic timer do).</summary>
    public static IssuerReloadResult ReloadIssuer(WebApplication app) => app.Services.GetRequiredService<IssuerStore>().Reload();

    private static void ConfigureKestrel(KestrelServerOptions kestrel)
    {
        var services = kestrel.ApplicationServices;
        var options = services.GetRequiredService<IOptions<IdentityServerOptions>>().Value;
        var bound = services.GetRequiredService<BoundEndpoints>();
        var adminPorts = services.GetRequiredService<AdminPorts>();
        kestrel.AddServerHeader = false;
        // Every stream Kestrel accepts costs memory before admission control sees it (it waits in the thread pool's
        // queue behind the calls in progress), so the bound is connections x streams; a client that multiplexes
        // more than this waits for a stream on its side, where it costs this server nothing.
        kestrel.Limits.Http2.MaxStreamsPerConnection = options.MaxConcurrentStreams;
        // A connection with nothing in flight is closed after 20 s (Kestrel's default is 130 s): linkerd2-proxy dials
        // anew for each Certify, and an idle connection holds a -max-connections slot another proxy may wait for.
        kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(20);

        Listen(kestrel, options.Addr, listen =>
        {
            bound.GrpcListen = listen;
            listen.Protocols = HttpProtocols.Http2;
            if (options.MaxConnections > 0)
            {
                // On the gRPC port only (Kestrel's own limit would count the admin port too, and a flood of
                // Certify connections must never starve the probes).
                listen.Use(services.GetRequiredService<ConnectionLimit>().Middleware);
            }
            if (options.Tls)
            {
                var serving = services.GetRequiredService<ServingCertificate>();
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                    {
                        ServerCertificateContext = serving.Context
                            ?? throw new AuthenticationException("no issuer loaded: cannot present a serving certificate yet"),
                        EnabledSslProtocols = SslProtocols.Tls13,
                        ClientCertificateRequired = false,
                        ApplicationProtocols = [SslApplicationProtocol.Http2],
                    }),
                });

                // Linkerd proxies speak HTTP/2 over TLS without offering ALPN, and Kestrel refuses an HTTP/2-only
                // TLS connection whose ALPN is not h2. This endpoint speaks nothing but HTTP/2, so record h2 as the
                // negotiated protocol when the client offered none.
                listen.Use(next => connection =>
                {
                    if (connection.Features.Get<ITlsApplicationProtocolFeature>() is not { ApplicationProtocol.IsEmpty: false })
                    {
                        connection.Features.Set<ITlsApplicationProtocolFeature>(AssumedHttp2.Instance);
                    }

                    return next(connection);
                });
            }
        });

        Listen(kestrel, options.AdminAddr, listen =>
        {
            bound.AdminListen = listen;
            listen.Protocols = HttpProtocols.Http1;
            listen.Use(next => connection =>
            {
                adminPorts.Add(connection.LocalEndPoint);
                return next(connection);
            });
        });
    }

    private static void Listen(KestrelServerOptions kestrel, string address, Action<ListenOptions> configure)
    {
        if (!IdentityServerOptions.TryParseListenAddress(address, out var ip, out var port))
        {
            throw new OptionsValidationException(nameof(IdentityServerOptions), typeof(IdentityServerOptions),
                [$"'{address}' is not a listen address of the form [host]:port"]);
        }

        if (ip is null)
        {
            kestrel.ListenAnyIP(port, configure);
        }
        else
        {
            kestrel.Listen(ip, port, configure);
        }
    }
}

/// <summary>
/// At most <c>max</c> connections are served at once; the next ones wait, in arrival order, before any TLS or HTTP/2
/// state exists for them, and are served as slots free up.
/// </summary>
/// <remarks>
/// linkerd2-proxy opens a new connection for every Certify, so a fleet restart is thousands of connections at once.
/// A served HTTP/2 connection costs about 30 KiB here (Kestrel's frame buffers, HPACK tables, stream pool), and
/// 4,000 of them with five calls each took the server past a 256 MiB limit; a waiting one has no TLS or HTTP/2
/// state yet, only its socket and what the client already sent. Closing the surplus instead would send each of those proxies into its retry backoff
/// (10 s or more) for a slot that frees within milliseconds. Waiting is bounded too: at most
/// <see cref="WaitingPerSlot"/> per slot, each for at most <see cref="MaxWait"/>; beyond that a connection is closed
/// at once.
/// </remarks>
internal sealed class ConnectionLimit(int max) : IDisposable
{
    /// <summary>Waiting connections allowed per served one.</summary>
    public const int WaitingPerSlot = 4;

    /// <summary>How long a connection may wait for a slot: a proxy's Certify deadline.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _slots = new(max, max);
    private int _waiting;

    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Raised after a connection starts or stops waiting (for tests that must wait for a state, not a time).</summary>
    public event Action? WaitingChanged;

    public void Dispose() => _slots.Dispose();

    public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        if (!_slots.Wait(0))
        {
            if (Interlocked.Increment(ref _waiting) > WaitingPerSlot * max)
            {
                Interlocked.Decrement(ref _waiting);
                connection.Abort(new ConnectionAbortedException($"more than {max} connections served and {WaitingPerSlot * max} waiting"));
                return;
            }

            WaitingChanged?.Invoke();

            bool admitted;
            try
            {
                // SemaphoreSlim serves asynchronous waiters first come, first served.
                admitted = await _slots.WaitAsync(MaxWait, connection.ConnectionClosed);
            }
            catch (OperationCanceledException)
            {
                admitted = false;
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
                WaitingChanged?.Invoke();
            }

            if (!admitted)
            {
                connection.Abort(new ConnectionAbortedException($"no connection slot free within {MaxWait.TotalSeconds} s"));
                return;
            }
        }

        try
        {
            await next(connection);
        }
        finally
        {
            _slots.Release();
        }
    };
}

/// <summary>ALPN result standing in for "none offered" on the HTTP/2-only TLS endpoint.</summary>
internal sealed class AssumedHttp2 : ITlsApplicationProtocolFeature
{
    public static readonly AssumedHttp2 Instance = new();

    public ReadOnlyMemory<byte> ApplicationProtocol => SslApplicationProtocol.Http2.Protocol;
}

/// <summary>The listen options Kestrel bound, which carry the resolved port after start.</summary>
internal sealed class BoundEndpoints
{
    public ListenOptions? GrpcListen { get; set; }

    public ListenOptions? AdminListen { get; set; }

    public IPEndPoint Grpc => GrpcListen?.IPEndPoint ?? throw new InvalidOperationException("the server has not started");

    public IPEndPoint Admin => AdminListen?.IPEndPoint ?? throw new InvalidOperationException("the server has not started");
}

/// <summary>gRPC health: serving once a valid issuer is loaded.</summary>
internal sealed class IssuerHealthCheck(IssuerStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(store.ServesValidIssuer
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("no valid issuer loaded"));
}
