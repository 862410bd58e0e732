using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Identity.Client.Tests.Support;
using Identity.Client.Tls;
using Identity.Client.Verification;

namespace Identity.Client.Tests.Tls;

/// <summary>Interop with the real openssl CLI, both as TLS 1.3 server (requiring our client cert) and as client.</summary>
public sealed class OpenSslInteropTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Openssl_s_server_requiring_a_client_cert_accepts_our_client()
    {
        Assert.SkipUnless(File.Exists(OpenSsl.Path), "openssl CLI not installed");
        using var pki = new MeshPki();
        using var dir = new TempDirectory("identity-client-tests-");
        var east = pki.Issue(pki.East, MeshPki.EastIdentity);
        var files = WriteFiles(dir, pki, east, "east");
        var port = LoopbackPort.Free();

        using var server = OpenSsl.Start(
            "s_server", "-Verify", "1", "-CAfile", files.Root, "-cert", files.Leaf, "-key", files.Key, "-cert_chain", files.Issuer,
            "-tls1_3", "-accept", "127.0.0.1:" + port, "-naccept", "1");
        Assert.True(await server.WaitForOutputAsync("ACCEPT", Bound), "s_server did not start: " + server.Output);

        var client = pki.Tls(new MutableCredentials(pki.Issue(pki.West, MeshPki.WestIdentity)));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, Ct);
        await using var ssl = new SslStream(tcp.GetStream());
        var result = await client.AuthenticateAsClientAsync(ssl, MeshPki.EastIdentity, Ct).WaitAsync(Bound, Ct);
        await ssl.WriteAsync(Encoding.ASCII.GetBytes("hello from west\n"), Ct);
        await ssl.FlushAsync(Ct);

        Assert.Equal(MeshPki.EastIdentity, result.Identity);
        Assert.True(await server.WaitForOutputAsync("hello from west", Bound), server.Output);
        // s_server verified our chain (leaf + west issuer) against the root and printed our subject.
        Assert.Contains("subject=CN = " + MeshPki.WestIdentity, server.Output, StringComparison.Ordinal);
        Assert.Contains("verify return:1", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("verify error", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Our_server_requiring_client_certs_accepts_openssl_s_client_with_a_mesh_certificate()
    {
        Assert.SkipUnless(File.Exists(OpenSsl.Path), "openssl CLI not installed");
        using var pki = new MeshPki();
        using var dir = new TempDirectory("identity-client-tests-");
        var west = pki.Issue(pki.West, MeshPki.WestIdentity);
        var files = WriteFiles(dir, pki, west, "west");
        var server = pki.Tls(new MutableCredentials(pki.Issue(pki.East, MeshPki.EastIdentity)));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serverTask = ServeOnceAsync(listener, server);

        using var client = OpenSsl.Start(
            "s_client", "-connect", "127.0.0.1:" + port, "-servername", MeshPki.EastIdentity,
            "-cert", files.Leaf, "-key", files.Key, "-cert_chain", files.Issuer, "-CAfile", files.Root,
            "-tls1_3", "-verify_return_error", "-ign_eof");
        client.Process.StandardInput.Close();

        var (result, error) = await serverTask.WaitAsync(Bound, Ct);
        Assert.True(await client.WaitForExitAsync(Bound), client.Output);

        Assert.Null(error);
        Assert.Equal(MeshPki.WestIdentity, result!.Identity);
        Assert.Contains("hello from east", client.Output, StringComparison.Ordinal);
        Assert.Contains("Verify return code: 0 (ok)", client.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Our_server_requiring_client_certs_refuses_openssl_s_client_without_one()
    {
        Assert.SkipUnless(File.Exists(OpenSsl.Path), "openssl CLI not installed");
        using var pki = new MeshPki();
        using var dir = new TempDirectory("identity-client-tests-");
        var files = WriteFiles(dir, pki, pki.Issue(pki.West, MeshPki.WestIdentity), "west");
        var server = pki.Tls(new MutableCredentials(pki.Issue(pki.East, MeshPki.EastIdentity)));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serverTask = ServeOnceAsync(listener, server);

        using var client = OpenSsl.Start(
            "s_client", "-connect", "127.0.0.1:" + port, "-servername", MeshPki.EastIdentity,
            "-CAfile", files.Root, "-tls1_3", "-ign_eof");
        client.Process.StandardInput.Close();

        var (result, error) = await serverTask.WaitAsync(Bound, Ct);
        Assert.True(await client.WaitForExitAsync(Bound), client.Output);

        Assert.IsType<AuthenticationException>(error);
        Assert.Equal("client certificate required", error.Message);
        Assert.Equal(VerificationFailure.ClientCertificateRequired, result!.Failure);
        Assert.DoesNotContain("hello from east", client.Output, StringComparison.Ordinal);
    }

    private static async Task<(CertificateVerificationResult? Result, Exception? Error)> ServeOnceAsync(TcpListener listener, MeshTls tls)
    {
        using var socket = await listener.AcceptSocketAsync(Ct);
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
        try
        {
            var result = await tls.AuthenticateAsServerAsync(ssl, requireClientCertificate: true, Ct);
            await ssl.WriteAsync(Encoding.ASCII.GetBytes("hello from east\n"), Ct);
            await ssl.FlushAsync(Ct);
            await ssl.ShutdownAsync();
            return (result, null);
        }
        catch (AuthenticationException ex)
        {
            return (MeshTls.GetPeerVerification(ssl), ex);
        }
    }

    private static (string Root, string Issuer, string Leaf, string Key) WriteFiles(TempDirectory dir, MeshPki pki, WorkloadCredentials creds, string name)
    {
        // The key first, owner-only, before anything else is written.
        var key = dir.File(name + "-key.pem");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(key, options))
        using (var writer = new StreamWriter(stream))
        {
            using var ecdsa = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPrivateKey(creds.Certificate)!;
            writer.Write(ecdsa.ExportPkcs8PrivateKeyPem());
        }

        return (
            dir.Write("root.pem", pki.Root.Certificate.ExportCertificatePem()),
            dir.Write(name + "-issuer.pem", creds.Intermediates[0].ExportCertificatePem()),
            dir.Write(name + "-leaf.pem", creds.Certificate.ExportCertificatePem()),
            key);
    }
}
