using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Identity.Client;
using Identity.Client.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Identity.Cli.Demo;

/// <summary>What one side of a mesh TLS handshake verified about the other.</summary>
/// <param name="Identity">The verified identity (from the handshake, not from configuration).</param>
/// <param name="IssuerKeyId">Hex AKI of the peer's leaf: which issuer signed it.</param>
internal sealed record VerifiedPeer(string Identity, string IssuerKeyId);

/// <summary>An answer over mesh TLS, with the peer verified during that call's own handshake.</summary>
internal sealed record MeshResponse(HttpStatusCode Status, string Body, VerifiedPeer Peer, HttpResponseMessage Message);

/// <summary>Credentials fixed at construction (the demo's out-of-mesh clients).</summary>
internal sealed class FixedCredentials(WorkloadCredentials? credentials) : IWorkloadCredentialsProvider
{
    public WorkloadCredentials? Current => credentials;
}

/// <summary>
/// An HTTP/1.1 client over mesh TLS: every request opens a new connection, so each call runs its own handshake
/// with the credentials current at that moment and reports the peer that handshake verified.
/// </summary>
internal sealed class MeshHttpClient : IDisposable
{
    private static readonly HttpRequestOptionsKey<VerifiedPeer> PeerKey = new("identity-demo-verified-peer");
    private readonly HttpClient _client;

    public MeshHttpClient(MeshTls tls, string expectedPeerIdentity)
    {
        var handler = new SocketsHttpHandler
        {
            // No reuse: a renewed certificate must show up in the next call's handshake.
            PooledConnectionLifetime = TimeSpan.Zero,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                SslStream? ssl = null;
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, ct).ConfigureAwait(false);
                    ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
                    var verified = await tls.AuthenticateAsClientAsync(ssl, expectedPeerIdentity, ct).ConfigureAwait(false);
                    using var leaf = ssl.RemoteCertificate is { } remote ? new X509Certificate2(remote) : null;
                    var issuer = leaf is null ? "" : DemoCa.AuthorityKeyId(leaf);
                    context.InitialRequestMessage.Options.Set(PeerKey, new VerifiedPeer(verified.Identity ?? "", issuer));
                    return ssl;
                }
                catch
                {
                    if (ssl is not null)
                    {
                        await ssl.DisposeAsync().ConfigureAwait(false);
                    }

                    socket.Dispose();
                    throw;
                }
            },
        };
        _client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
    }

    public async Task<MeshResponse> GetAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri) { Version = HttpVersion.Version11 };
        request.Headers.ConnectionClose = true;
        var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!request.Options.TryGetValue(PeerKey, out var peer))
        {
            throw new InvalidOperationException("the call completed without a verified mesh TLS handshake");
        }

        return new MeshResponse(response.StatusCode, body, peer, response);
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>An HTTPS service on 127.0.0.1:0 speaking mesh TLS (TLS 1.3, client certificate required).</summary>
internal static class MeshService
{
    public static async Task<(WebApplication App, Uri Address)> StartAsync(MeshTls tls, RequestDelegate handler, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        DemoLogging.Quiet(builder.Logging);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                // Per connection: a renewed workload certificate is served by the next handshake without a restart.
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = context => tls.SelectServerOptionsAsync(requireClientCertificate: true, context.CancellationToken),
                });
            });
        });
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return (app, new Uri(address.Replace("http://", "https://", StringComparison.Ordinal)));
    }

    /// <summary>The client verified in this request's handshake.</summary>
    public static string? ClientIdentity(HttpContext context) =>
        context.Features.Get<ISslStreamFeature>()?.SslStream is { } ssl ? MeshTls.GetPeerVerification(ssl)?.Identity : null;
}

/// <summary>Keeps the servers' logs to warnings and above, on stderr, so the demo's story on stdout stays readable.</summary>
internal static class DemoLogging
{
    public static void Quiet(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddSimpleConsole(o => o.SingleLine = true);
        // Kestrel warns about environment-configured URLs (e.g. ASPNETCORE_HTTP_PORTS in container images) that the
        // explicit loopback listeners override; that is noise here, not a server problem.
        logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Error);
        logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
