using System.Net;
using System.Net.Http;
using System.Net.Security;
using Identity.Client.Tests.Support;
using Identity.Client.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Identity.Client.Tests.Tls;

/// <summary>Mesh TLS on a real Kestrel endpoint: per-connection options, client cert required, peer identity in the app.</summary>
public sealed class KestrelMeshTlsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Kestrel_with_mesh_tls_sees_the_verified_client_identity_and_refuses_anonymous_clients()
    {
        using var pki = new MeshPki();
        var serverTls = pki.Tls(new MutableCredentials(pki.Issue(pki.East, MeshPki.EastIdentity)));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = ctx => serverTls.SelectServerOptionsAsync(requireClientCertificate: true, ctx.CancellationToken),
        })));
        await using var app = builder.Build();
        app.MapGet("/whoami", (HttpContext context) =>
            MeshTls.GetPeerVerification(context.Features.Get<ISslStreamFeature>()!.SslStream)?.Identity ?? "(anonymous)");
        await app.StartAsync(Ct);
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        var url = new Uri($"https://127.0.0.1:{port}/whoami");

        var west = pki.Tls(new MutableCredentials(pki.Issue(pki.West, MeshPki.WestIdentity)));
        using (var http = new HttpClient(new SocketsHttpHandler { SslOptions = west.CreateClientOptions(MeshPki.EastIdentity) }))
        {
            Assert.Equal(MeshPki.WestIdentity, await http.GetStringAsync(url, Ct));
        }

        var anonymous = pki.Tls(new MutableCredentials(null));
        using (var http = new HttpClient(new SocketsHttpHandler { SslOptions = anonymous.CreateClientOptions(MeshPki.EastIdentity) }))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => http.GetStringAsync(url, Ct));
        }

        await app.StopAsync(Ct);
    }
}
