using System.Net;
using Identity.Client;
using Identity.Kubernetes;
using Identity.Pki.Files;
using Identity.Server.Events;
using Identity.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Identity.Cli.Demo;

/// <summary>
/// One demo "cluster": its issuer secret volume, its ServiceAccount token issuer (the demo stands in for the
/// cluster's API server) and its identity server, in-process on 127.0.0.1 with an ephemeral port.
/// </summary>
internal sealed class DemoCluster : IAsyncDisposable
{
    public const string ControllerNamespace = "linkerd";
    public const string TrustDomain = "cluster.local";

    private readonly string _tokensDirectory;
    private readonly string _anchorsPem;

    private DemoCluster(string name, string issuerDirectory, string tokensDirectory, string anchorsPem, ServiceAccountTokenIssuer tokens, WebApplication server, DemoEventSink events)
    {
        Events = events;
        Name = name;
        IssuerDirectory = issuerDirectory;
        _tokensDirectory = tokensDirectory;
        _anchorsPem = anchorsPem;
        Tokens = tokens;
        Server = server;
        GrpcEndpoint = IdentityServerHost.GetGrpcEndpoint(server);
    }

    public string Name { get; }

    /// <summary>The Kubernetes-style volume holding crt.pem/key.pem (<c>linkerd-identity-issuer</c>).</summary>
    public string IssuerDirectory { get; }

    public ServiceAccountTokenIssuer Tokens { get; }

    public WebApplication Server { get; }

    /// <summary>The issuer events this cluster's identity server raised.</summary>
    public DemoEventSink Events { get; }

    public IPEndPoint GrpcEndpoint { get; }

    /// <summary>The identity server's own identity (its TLS certificate's DNS SAN).</summary>
    public static string ServerIdentity =>
        $"linkerd-identity.{ControllerNamespace}.serviceaccount.identity.{ControllerNamespace}.{TrustDomain}";

    public static string IdentityOf(string ns, string serviceAccount) =>
        $"{serviceAccount}.{ns}.serviceaccount.identity.{ControllerNamespace}.{TrustDomain}";

    /// <summary>The issuer volume of a cluster directory (written by <see cref="WriteIssuer"/> before the start).</summary>
    public static string IssuerDirectoryOf(string directory) => Path.Combine(directory, "linkerd-identity-issuer");

    /// <summary>Writes the cluster's JWKS, then starts its identity server on the issuer volume already written.</summary>
    public static async Task<DemoCluster> StartAsync(string name, string directory, string anchorsFile, CancellationToken cancellationToken)
    {
        var issuerDirectory = IssuerDirectoryOf(directory);
        var tokensDirectory = Path.Combine(directory, "tokens");
        Directory.CreateDirectory(tokensDirectory);

        var tokenIssuer = $"https://kubernetes.default.svc.{name}.demo";
        var tokens = new ServiceAccountTokenIssuer(tokenIssuer);
        var jwks = Path.Combine(directory, "jwks.json");
        tokens.WriteJwks(jwks);

        var builder = IdentityServerHost.CreateBuilder(o =>
        {
            o.Addr = "127.0.0.1:0";
            o.AdminAddr = "127.0.0.1:0";
            o.ControllerNamespace = ControllerNamespace;
            o.TrustDomain = TrustDomain;
            o.IssuerDirectory = issuerDirectory;
            o.TrustAnchorsFile = anchorsFile;
            o.Tls = true;
        });
        DemoLogging.Quiet(builder.Logging);
        // The identity client speaks HTTP/2 with prior knowledge inside its own TLS, so requests say :scheme http.
        builder.WebHost.ConfigureKestrel(k => k.AllowAlternateSchemes = true);
        // The demo listens to the server's Kubernetes-event seam to show (and check) when the issuer changes.
        var events = new DemoEventSink();
        builder.Services.Replace(ServiceDescriptor.Singleton<IIssuerEventSink>(events));
        builder.Services.AddIdentityTokenValidation(o =>
        {
            o.Mode = TokenValidationMode.Jwks;
            o.Jwks = jwks;
            o.TokenIssuer = tokenIssuer;
        });

        var server = IdentityServerHost.Build(builder);
        try
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            return new DemoCluster(name, issuerDirectory, tokensDirectory, File.ReadAllText(anchorsFile), tokens, server, events);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            tokens.Dispose();
            throw;
        }
    }

    /// <summary>Writes (or swaps in) an issuer the way Kubernetes updates a mounted Secret.</summary>
    public static void WriteIssuer(string issuerDirectory, DemoCa issuer) =>
        SecretVolume.Write(
            issuerDirectory,
            new Dictionary<string, string> { ["crt.pem"] = issuer.CertificatePem, ["key.pem"] = issuer.KeyPem },
            new HashSet<string> { "key.pem" });

    /// <summary>
    /// A workload's identity client against this cluster's identity server, with a fresh projected-style token in
    /// its own file (the client re-reads it on every call). Not started: the demo drives renewals explicitly.
    /// </summary>
    public IdentityClient CreateWorkload(string ns, string serviceAccount, ServiceAccountTokenIssuer? tokenIssuer = null)
    {
        var tokenFile = RefreshToken(ns, serviceAccount, tokenIssuer);
        return new IdentityClient(Options.Create(new IdentityClientOptions
        {
            Address = new Uri($"https://{GrpcEndpoint}"),
            ServerIdentity = ServerIdentity,
            LocalIdentity = IdentityOf(ns, serviceAccount),
            TokenFile = tokenFile,
            TrustAnchorsPem = _anchorsPem,
            CallTimeout = TimeSpan.FromSeconds(5),
        }));
    }

    /// <summary>Writes a freshly minted token to the workload's token file (as the kubelet refreshes projected tokens).</summary>
    public string RefreshToken(string ns, string serviceAccount, ServiceAccountTokenIssuer? tokenIssuer = null)
    {
        var tokenDirectory = Path.Combine(_tokensDirectory, $"{ns}.{serviceAccount}");
        Directory.CreateDirectory(tokenDirectory);
        var tokenFile = Path.Combine(tokenDirectory, "linkerd-identity-token");
        SecureFile.WriteText(tokenFile, (tokenIssuer ?? Tokens).Mint(ns, serviceAccount), overwrite: true);
        return tokenFile;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await Server.DisposeAsync().ConfigureAwait(false);
        Tokens.Dispose();
    }
}

/// <summary>Counts the identity server's issuer events (where a cluster would post Kubernetes Events).</summary>
internal sealed class DemoEventSink : IIssuerEventSink
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _skipped = new();
    private int _updated;
    private int _issued;

    /// <summary>How many <c>IssuerUpdated</c> events were raised.</summary>
    public int Updated => Volatile.Read(ref _updated);

    /// <summary>How many leaf certificates were issued.</summary>
    public int Issued => Volatile.Read(ref _issued);

    /// <summary>The reasons of <c>IssuerUpdateSkipped</c> and <c>IssuerValidationFailed</c> events.</summary>
    public IReadOnlyCollection<string> Problems => _skipped;

    public void IssuerUpdated() => Interlocked.Increment(ref _updated);

    public void IssuerUpdateSkipped(string reason) => _skipped.Enqueue($"IssuerUpdateSkipped: {reason}");

    public void IssuerValidationFailed(string reason, string requestedIdentity) => _skipped.Enqueue($"IssuerValidationFailed: {reason}");

    public void IssuedLeafCertificate(string ns, string serviceAccount, string message) => Interlocked.Increment(ref _issued);
}
