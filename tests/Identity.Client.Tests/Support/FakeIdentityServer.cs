using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Identity.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using IdentityGrpc = Identity.Protocol.Identity;

namespace Identity.Client.Tests.Support;

/// <summary>What the fake service saw in one call.</summary>
internal sealed record SeenRequest(string Identity, string Token, byte[] Csr);

/// <summary>
/// A real gRPC Identity service on Kestrel (127.0.0.1, port 0, HTTP/2) that signs CSRs with a test issuer.
/// Tests script its answers through <see cref="Behavior"/>.
/// </summary>
internal sealed class FakeIdentityServer : IdentityGrpc.IdentityBase, IAsyncDisposable
{
    private WebApplication? _app;

    public FakeIdentityServer(TestCredential issuer, TimeProvider time)
    {
        Issuer = issuer;
        Time = time;
        Behavior = (request, _) => Task.FromResult(Sign(request, Lifetime));
    }

    public TestCredential Issuer { get; }

    public TimeProvider Time { get; }

    /// <summary>Lifetime of issued leaves (NotBefore = now, NotAfter = now + lifetime).</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Intermediates sent with each leaf; default: the issuer.</summary>
    public IReadOnlyList<X509Certificate2>? Intermediates { get; set; }

    /// <summary>The answer to one call; may throw RpcException.</summary>
    public Func<CertifyRequest, ServerCallContext, Task<CertifyResponse>> Behavior { get; set; }

    public ConcurrentQueue<SeenRequest> Seen { get; } = new();

    public Uri Address { get; private set; } = null!;

    public async Task StartAsync(Action<ListenOptions>? configureListen = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            // The client speaks HTTP/2 with prior knowledge over its own TLS stream, hence :scheme http on a TLS socket.
            k.AllowAlternateSchemes = true;
            k.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                configureListen?.Invoke(listen);
            });
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(this);
        _app = builder.Build();
        _app.MapGrpcService<FakeIdentityServer>();
        await _app.StartAsync();
        var bound = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        Address = new Uri((configureListen is null ? "http" : "https") + "://127.0.0.1:" + bound.Port);
    }

    public override Task<CertifyResponse> Certify(CertifyRequest request, ServerCallContext context)
    {
        Seen.Enqueue(new SeenRequest(request.Identity, request.Token.ToStringUtf8(), request.CertificateSigningRequest.ToByteArray()));
        return Behavior(request, context);
    }

    /// <summary>Signs the request's CSR as a real identity service would.</summary>
    public CertifyResponse Sign(CertifyRequest request, TimeSpan lifetime, TestCredential? issuer = null, string? overrideDnsName = null)
    {
        var signer = issuer ?? Issuer;
        var now = Time.GetUtcNow();
        using var leaf = TestPki.SignCsr(signer, request.CertificateSigningRequest.ToByteArray(), now, now + lifetime, overrideDnsName);
        var response = new CertifyResponse
        {
            LeafCertificate = ByteString.CopyFrom(leaf.RawData),
            ValidUntil = Timestamp.FromDateTimeOffset(new DateTimeOffset(leaf.NotAfter.ToUniversalTime())),
        };
        foreach (var c in Intermediates ?? [signer.Certificate])
        {
            response.IntermediateCertificates.Add(ByteString.CopyFrom(c.RawData));
        }

        return response;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
