using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Identity.Client.Tls;
using Identity.Client.Verification;

namespace Identity.Client.Tests.Support;

/// <summary>A credentials provider whose snapshot a test swaps.</summary>
internal sealed class MutableCredentials(WorkloadCredentials? current) : IWorkloadCredentialsProvider
{
    public WorkloadCredentials? Current { get; set; } = current;
}

/// <summary>
/// One shared root with two cluster issuers (west, east), as the multicluster guide sets up, plus a foreign root.
/// </summary>
internal sealed class MeshPki : IDisposable
{
    private readonly TestPki _pki;

    public const string WestIdentity = "frontend.test.serviceaccount.identity.linkerd.cluster.local";
    public const string EastIdentity = "podinfo.test.serviceaccount.identity.linkerd.cluster.local";

    public MeshPki()
    {
        Now = DateTimeOffset.UtcNow;
        _pki = new TestPki(Now);
        Root = _pki.Root("root.linkerd.cluster.local");
        West = _pki.Intermediate(Root, "identity.west.linkerd.cluster.local");
        East = _pki.Intermediate(Root, "identity.east.linkerd.cluster.local");
        ForeignRoot = _pki.Root("root.linkerd.cluster.local"); // same name, different key
        ForeignIssuer = _pki.Intermediate(ForeignRoot, "identity.west.linkerd.cluster.local");
    }

    public DateTimeOffset Now { get; }

    public TestCredential Root { get; }

    public TestCredential West { get; }

    public TestCredential East { get; }

    public TestCredential ForeignRoot { get; }

    public TestCredential ForeignIssuer { get; }

    public WorkloadCredentials Issue(TestCredential issuer, string identity, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null) =>
        WorkloadCredentials.Create(
            _pki.Leaf(issuer, identity, notBefore ?? Now.AddMinutes(-5), notAfter ?? Now.AddHours(1)).CertificateWithKey(),
            [issuer.Certificate]);

    public MeshTls Tls(IWorkloadCredentialsProvider credentials) => new(credentials, [Root.Certificate]);

    public void Dispose()
    {
        West.Dispose();
        East.Dispose();
        ForeignIssuer.Dispose();
        ForeignRoot.Dispose();
        Root.Dispose();
    }
}

/// <summary>The outcome of one side of a handshake plus a one-byte exchange.</summary>
internal sealed record Side(CertificateVerificationResult? Result, Exception? Error, string? RemoteThumbprint);

internal static class Handshake
{
    /// <summary>Runs one mTLS connection over 127.0.0.1 and reports both sides.</summary>
    public static async Task<(Side Server, Side Client)> RunAsync(MeshTls server, bool requireClientCertificate, MeshTls client, string expectedServerIdentity)
    {
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var serverTask = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(ct);
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
            try
            {
                var result = await server.AuthenticateAsServerAsync(ssl, requireClientCertificate, ct);
                await ssl.WriteAsync(new byte[] { 42 }, ct);
                await ssl.FlushAsync(ct);
                await ssl.ReadExactlyAsync(new byte[1], ct);
                return new Side(result, null, ssl.RemoteCertificate?.GetCertHashString());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return new Side(MeshTls.GetPeerVerification(ssl), ex, null);
            }
        }, ct);

        var clientTask = Task.Run(async () =>
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port, ct);
            await using var ssl = new SslStream(tcp.GetStream());
            try
            {
                var result = await client.AuthenticateAsClientAsync(ssl, expectedServerIdentity, ct);
                var thumbprint = ssl.RemoteCertificate?.GetCertHashString();
                await ssl.ReadExactlyAsync(new byte[1], ct);
                await ssl.WriteAsync(new byte[] { 43 }, ct);
                await ssl.FlushAsync(ct);
                return new Side(result, null, thumbprint);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return new Side(MeshTls.GetPeerVerification(ssl), ex, null);
            }
        }, ct);

        var both = await Task.WhenAll(serverTask, clientTask).WaitAsync(TimeSpan.FromSeconds(30), ct);
        return (both[0], both[1]);
    }
}
