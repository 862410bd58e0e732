using System.Text;
using Identity.Cli.Demo;
using Identity.Kubernetes;
using Identity.Server.Hosting;
using Identity.Server.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Identity.Bench;

/// <summary>Accepts any token whose bytes are a username (bench comparison only: no authentication at all).</summary>
internal sealed class AcceptAllTokenValidator : ITokenValidator
{
    public ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TokenReviewResult.Success(Encoding.UTF8.GetString(token.Span), null));
}

/// <summary>
/// The real server with a throw-away root, issuer and (in JWKS mode) ServiceAccount token issuer, validating
/// tokens exactly as <c>identity serve -token-validation jwks</c> does: <see cref="ServiceCollectionExtensions.AddIdentityTokenValidation"/>,
/// i.e. <see cref="JwksTokenValidator"/> against a JWKS file behind <see cref="CachingTokenValidator"/>.
/// </summary>
internal sealed class SelfHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SelfHost(WebApplication app, string directory, ServiceAccountTokenIssuer? tokens, string? tokenKeyFile)
    {
        _app = app;
        Directory = directory;
        Tokens = tokens;
        TokenKeyFile = tokenKeyFile;
    }

    public string Address => $"http://127.0.0.1:{IdentityServerHost.GetGrpcEndpoint(_app).Port}";

    public string Directory { get; }

    /// <summary>The ServiceAccount token issuer whose JWKS the server trusts (null in accept-all mode).</summary>
    public ServiceAccountTokenIssuer? Tokens { get; }

    /// <summary>Its signing key (PEM, mode 0600), for a client in another process (null in accept-all mode).</summary>
    public string? TokenKeyFile { get; }

    public static async Task<SelfHost> StartAsync(TokenMode mode, bool auditLog)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("identity-bench-").FullName;
        var pki = await BenchPki.WriteAsync(dir).ConfigureAwait(false);

        var builder = IdentityServerHost.CreateBuilder(o =>
        {
            o.Addr = "127.0.0.1:0";
            o.AdminAddr = "127.0.0.1:0";
            o.ControllerNamespace = "linkerd";
            o.TrustDomain = "cluster.local";
            o.IssuerDirectory = pki.IssuerDirectory;
            o.TrustAnchorsFile = pki.TrustAnchorsFile;
        });
        // The per-certificate audit line is Information: off by default so the run measures the CA, on with
        // --audit-log (to the console, as `identity serve` does) to measure what the audit trail costs.
        builder.Logging.SetMinimumLevel(auditLog ? LogLevel.Information : LogLevel.Warning);
        // As `identity serve` at info: the audit trail and issuer events, not ASP.NET Core's two lines per call.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        ServiceAccountTokenIssuer? tokens = null;
        string? tokenKeyFile = null;
        if (mode == TokenMode.Jwks)
        {
            tokenKeyFile = pki.TokenKeyFile;
            tokens = pki.OpenTokenIssuer();
            var jwks = pki.JwksFile;
            // The same registration `identity serve -token-validation jwks -jwks FILE -token-issuer URL` makes.
            builder.Services.AddIdentityTokenValidation(o =>
            {
                o.Mode = TokenValidationMode.Jwks;
                o.Jwks = jwks;
                o.TokenIssuer = BenchSettings.DefaultTokenIssuer;
            });
        }
        else
        {
            builder.Services.AddSingleton<ITokenValidator, AcceptAllTokenValidator>();
        }

        var app = IdentityServerHost.Build(builder);
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            tokens?.Dispose();
            throw;
        }

        return new SelfHost(app, dir, tokens, tokenKeyFile);
    }

    /// <summary>Which validator the server resolved (to show the run used the intended one).</summary>
    public string ValidatorDescription => _app.Services.GetRequiredService<ITokenValidator>().GetType().Name;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        Tokens?.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
