using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Google.Protobuf;
using Grpc.Net.Client;
using Identity.Protocol;
using Identity.Server.Events;
using Identity.Server.Hosting;
using Identity.Server.Metrics;
using Identity.Server.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using IdentityGrpc = Identity.Protocol.Identity;

namespace Identity.Server.Tests;

/// <summary>
/// Behaves like a TokenReview: "sa:NS:NAME" authenticates as system:serviceaccount:NS:NAME, "user:X" as username X,
/// "error:TEXT" returns status.error TEXT, "unauth" is unauthenticated, "down" means the API call failed.
/// </summary>
internal sealed class TestTokenValidator : ITokenValidator
{
    public int Calls;

    public ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Calls);
        var text = Encoding.UTF8.GetString(token.Span);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var (kind, rest) = colon < 0 ? (text, "") : (text[..colon], text[(colon + 1)..]);
        return kind switch
        {
            "sa" => ValueTask.FromResult(TokenReviewResult.Success($"system:serviceaccount:{rest}", null)),
            "user" => ValueTask.FromResult(TokenReviewResult.Success(rest, null)),
            "error" => ValueTask.FromResult(TokenReviewResult.Failed(rest)),
            "unauth" => ValueTask.FromResult(TokenReviewResult.Unauthenticated()),
            "down" => throw new TokenValidationUnavailableException("client rate limiter Wait returned an error: context deadline exceeded"),
            _ => ValueTask.FromResult(TokenReviewResult.Failed("[invalid bearer token, token lookup failed]")),
        };
    }
}

internal sealed class RecordingEventSink : IIssuerEventSink
{
    public ConcurrentQueue<string> Events { get; } = new();

    public int Issued => Events.Count(e => e.StartsWith("IssuedLeafCertificate", StringComparison.Ordinal));

    public void IssuerUpdated() => Events.Enqueue("IssuerUpdated");

    public void IssuerUpdateSkipped(string reason) => Events.Enqueue($"IssuerUpdateSkipped {reason}");

    public void IssuerValidationFailed(string reason, string requestedIdentity) => Events.Enqueue($"IssuerValidationFailed {reason} {requestedIdentity}");

    public void IssuedLeafCertificate(string ns, string serviceAccount, string message) =>
        Events.Enqueue($"IssuedLeafCertificate {ns}/{serviceAccount} {message}");
}

/// <summary>Captures log lines (event id + formatted message) so tests can assert the audit trail.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(int EventId, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Lines.Enqueue((eventId.Id, formatter(state, exception)));
            }
        }
    }
}

/// <summary>A real server on 127.0.0.1 port 0 (gRPC h2c + admin HTTP/1.1) with a test PKI on disk.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(WebApplication app, string root, FakeTimeProvider time, TestCredential rootCa, TestCredential issuer,
        RecordingEventSink events, CapturingLoggerProvider logs, TestTokenValidator validator)
    {
        App = app;
        Directory = root;
        Time = time;
        Root = rootCa;
        Issuer = issuer;
        Events = events;
        Logs = logs;
        Validator = validator;
        // Only this server's own IMeterFactory, so servers in parallel tests do not count each other's certificates.
        IssuedCounter = new MetricRecorder(app.Services.GetRequiredService<IMeterFactory>(), IdentityMetrics.MeterName, IdentityMetrics.CertificatesIssued);
        var grpc = IdentityServerHost.GetGrpcEndpoint(app);
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpc.Port}");
        Client = new IdentityGrpc.IdentityClient(Channel);
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{IdentityServerHost.GetAdminEndpoint(app).Port}") };
    }

    public WebApplication App { get; }

    public string Directory { get; }

    public string IssuerDirectory => Path.Combine(Directory, "issuer");

    public string AnchorsFile => Path.Combine(Directory, "trust-roots", "ca-bundle.crt");

    public FakeTimeProvider Time { get; }

    public TestCredential Root { get; }

    public TestCredential Issuer { get; }

    public RecordingEventSink Events { get; }

    public CapturingLoggerProvider Logs { get; }

    public TestTokenValidator Validator { get; }

    public GrpcChannel Channel { get; }

    public IdentityGrpc.IdentityClient Client { get; }

    public HttpClient Admin { get; }

    public int AuditIssued => Logs.Lines.Count(l => l.EventId == 2000);

    /// <summary>What this server's <c>identity_certificates_issued</c> counter recorded.</summary>
    public MetricRecorder IssuedCounter { get; }

    public static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    public static async Task<TestServer> StartAsync(
        Action<IdentityServerOptions>? configure = null, bool writeIssuer = true, TestCredential? issuer = null, string? issuerExtraPem = null,
        DateTimeOffset? now = null, TestCredential? root = null, Action<IServiceCollection>? services = null)
    {
        var start = now ?? Now();
        var time = new FakeTimeProvider(start);
        var dir = System.IO.Directory.CreateTempSubdirectory("identity-server-test-").FullName;
        root ??= new TestPki(start).Root(pathLength: 1);
        issuer ??= new TestPki(start).Intermediate(root);
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "trust-roots"));
        File.WriteAllText(Path.Combine(dir, "trust-roots", "ca-bundle.crt"), root.CertificatePem);
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "issuer"));
        if (writeIssuer)
        {
            ServerFixtures.WriteKubernetesIssuer(Path.Combine(dir, "issuer"), issuer.CertificatePem + issuerExtraPem, issuer.KeyPem);
        }

        var events = new RecordingEventSink();
        var logs = new CapturingLoggerProvider();
        var validator = new TestTokenValidator();
        var builder = IdentityServerHost.CreateBuilder(o =>
        {
            o.Addr = "127.0.0.1:0";
            o.AdminAddr = "127.0.0.1:0";
            o.ControllerNamespace = ServerFixtures.ControllerNamespace;
            o.TrustDomain = ServerFixtures.TrustDomain;
            o.IdentityScheme = IdentityServerOptions.LinkerdScheme;
            o.IssuerDirectory = Path.Combine(dir, "issuer");
            o.TrustAnchorsFile = Path.Combine(dir, "trust-roots", "ca-bundle.crt");
            o.ClockSkewAllowance = TimeSpan.FromSeconds(20);
            configure?.Invoke(o);
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddSingleton<IIssuerEventSink>(events);
        builder.Services.AddSingleton<ITokenValidator>(validator);
        // Real validators (Identity.Kubernetes) replace the test one here, registered the way `identity serve` does.
        services?.Invoke(builder.Services);
        var app = IdentityServerHost.Build(builder);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new TestServer(app, dir, time, root, issuer, events, logs, validator);
    }

    public static CertifyRequest Request(string identity, string token, byte[] csr) => new()
    {
        Identity = identity,
        Token = ByteString.CopyFromUtf8(token),
        CertificateSigningRequest = ByteString.CopyFrom(csr),
    };

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        Admin.Dispose();
        IssuedCounter.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
