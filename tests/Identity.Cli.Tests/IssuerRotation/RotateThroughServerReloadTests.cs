using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.Net.Client;
using Identity.Cli.Demo;
using Identity.Protocol;
using Identity.Server;
using Identity.Server.Hosting;
using Identity.Server.Issuance;
using Identity.Server.Tokens;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using IdentityGrpc = Identity.Protocol.Identity;

namespace Identity.Cli.Tests.IssuerRotation;

/// <summary>
/// Issue 5's acceptance: the Secret `identity issuer rotate` prints, projected into the server's issuer volume the
/// way the kubelet updates a Secret volume, is what the running server swaps to; leaves before the swap come from
/// the old issuer, leaves after it from the new one, and both chain to the same root.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RotateThroughServerReloadTests : IDisposable
{
    private const string Web = "web.emojivoto.serviceaccount.identity.linkerd.cluster.local";

    private readonly TempDirectory _dir = new("identity-cli-");

    public RotateThroughServerReloadTests()
    {
        IdentityCli.RunOk("cert", "create", "root.linkerd.cluster.local", _dir["root.crt"], _dir["root.key"], "--profile", "root-ca", "--no-password", "--insecure");
    }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("linkerd.io/tls", "crt.pem", "key.pem")]
    [InlineData("kubernetes.io/tls", "tls.crt", "tls.key")]
    public async Task Server_swaps_to_the_rotated_issuer_and_leaves_chain_to_the_same_root(string scheme, string crtName, string keyName)
    {
        var ct = TestContext.Current.CancellationToken;
        var issuerDir = _dir["issuer"];
        var old = Rotate(scheme, "identity.linkerd.cluster.local");
        SecretVolume.Write(issuerDir, old.Data.ToDictionary(d => d.Key, d => System.Text.Encoding.UTF8.GetString(d.Value)), new HashSet<string> { keyName });
        using var oldIssuer = X509Certificate2.CreateFromPem(Text(old, crtName));

        await using var app = await StartServer(scheme, issuerDir, ct);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{IdentityServerHost.GetGrpcEndpoint(app).Port}");
        var client = new IdentityGrpc.IdentityClient(channel);

        var before = await client.CertifyAsync(Request(), cancellationToken: ct);
        using var beforeLeaf = X509CertificateLoader.LoadCertificate(before.LeafCertificate.ToByteArray());
        Assert.Equal(SubjectKeyId(oldIssuer), AuthorityKeyId(beforeLeaf));
        Assert.Equal(oldIssuer.RawData, Assert.Single(before.IntermediateCertificates).ToByteArray());

        // The operator's `identity issuer rotate | kubectl apply -f -`; the kubelet then swaps the volume's ..data link.
        var rotated = Rotate(scheme, "identity-2.linkerd.cluster.local");
        using var newIssuer = X509Certificate2.CreateFromPem(Text(rotated, crtName));
        Assert.NotEqual(SubjectKeyId(oldIssuer), SubjectKeyId(newIssuer));
        var oldData = SecretVolume.CurrentDataDirectory(issuerDir);
        SecretVolume.Write(issuerDir, rotated.Data.ToDictionary(d => d.Key, d => System.Text.Encoding.UTF8.GetString(d.Value)), new HashSet<string> { keyName });
        Assert.NotEqual(oldData, SecretVolume.CurrentDataDirectory(issuerDir));
        // What the watcher does on the ..data swap, invoked directly so the test does not race it.
        Assert.Equal(IssuerReloadResult.Updated, IdentityServerHost.ReloadIssuer(app));

        var after = await client.CertifyAsync(Request(), cancellationToken: ct);
        using var afterLeaf = X509CertificateLoader.LoadCertificate(after.LeafCertificate.ToByteArray());
        Assert.Equal(SubjectKeyId(newIssuer), AuthorityKeyId(afterLeaf));
        Assert.Equal(newIssuer.SubjectName.RawData, afterLeaf.IssuerName.RawData);
        Assert.Equal(newIssuer.RawData, Assert.Single(after.IntermediateCertificates).ToByteArray());

        File.WriteAllText(_dir["old-issuer.crt"], Text(old, crtName));
        File.WriteAllText(_dir["new-issuer.crt"], Text(rotated, crtName));
        File.WriteAllText(_dir["before.crt"], beforeLeaf.ExportCertificatePem());
        File.WriteAllText(_dir["after.crt"], afterLeaf.ExportCertificatePem());
        Assert.Contains("after.crt: OK", OpenSsl.RunOk(_dir.Path, "verify", "-CAfile", "root.crt", "-untrusted", "new-issuer.crt", "after.crt"), StringComparison.Ordinal);
        Assert.Contains("before.crt: OK", OpenSsl.RunOk(_dir.Path, "verify", "-CAfile", "root.crt", "-untrusted", "old-issuer.crt", "before.crt"), StringComparison.Ordinal);
        // The new leaf really hangs off the new issuer: the old one cannot complete its chain.
        Assert.NotEqual(0, OpenSsl.Run(_dir.Path, "verify", "-CAfile", "root.crt", "-untrusted", "old-issuer.crt", "after.crt").ExitCode);
    }

    private V1Secret Rotate(string scheme, string subject)
    {
        var result = IdentityCli.RunOk("issuer", "rotate", "--ca", _dir["root.crt"], "--ca-key", _dir["root.key"], "--scheme", scheme, "--subject", subject);
        return KubernetesYaml.Deserialize<V1Secret>(result.Stdout);
    }

    private static string Text(V1Secret secret, string key) => System.Text.Encoding.UTF8.GetString(secret.Data[key]);

    private async Task<WebApplication> StartServer(string scheme, string issuerDir, CancellationToken ct)
    {
        var builder = IdentityServerHost.CreateBuilder(o =>
        {
            o.Addr = "127.0.0.1:0";
            o.AdminAddr = "127.0.0.1:0";
            o.ControllerNamespace = "linkerd";
            o.TrustDomain = "cluster.local";
            o.IdentityScheme = scheme;
            o.IssuerDirectory = issuerDir;
            o.TrustAnchorsFile = _dir["root.crt"];
            o.WatchFiles = false;
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ITokenValidator, WebServiceAccount>();
        var app = IdentityServerHost.Build(builder);
        await app.StartAsync(ct);
        return app;
    }

    private static CertifyRequest Request()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertifyRequest
        {
            Identity = Web,
            Token = ByteString.CopyFromUtf8("token-of-web"),
            CertificateSigningRequest = ByteString.CopyFrom(TestCsr.Proxy(Web, key)),
        };
    }

    private static byte[] SubjectKeyId(X509Certificate2 certificate) =>
        Convert.FromHexString(certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifier!);

    private static byte[] AuthorityKeyId(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Single().KeyIdentifier!.Value.ToArray();

    /// <summary>Token review is not what this test is about: every token is emojivoto/web's.</summary>
    private sealed class WebServiceAccount : ITokenValidator
    {
        public ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken) =>
            ValueTask.FromResult(TokenReviewResult.Success("system:serviceaccount:emojivoto:web", null));
    }
}
