using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Verification;

/// <summary>
/// The BCL cannot sign with Ed25519, so the real openssl CLI signs a leaf with step's Ed25519 root; the
/// verifier must then accept it, and reject a copy with a damaged signature, without crashing.
/// </summary>
public sealed class Ed25519ChainTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("identity-ed25519-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Ed25519_signed_leaf_verifies_and_a_damaged_signature_is_rejected()
    {
        Assert.SkipUnless(File.Exists(OpenSsl.Path), "openssl CLI not installed");
        var csr = Path.Combine(_dir.FullName, "leaf.csr");
        var ext = Path.Combine(_dir.FullName, "ext.cnf");
        var leafPath = Path.Combine(_dir.FullName, "leaf.pem");
        File.WriteAllText(ext, "subjectAltName=DNS:ed-leaf.example.com\n");
        OpenSsl.RunOk(null, "req", "-new", "-newkey", "ed25519", "-nodes", "-keyout", Path.Combine(_dir.FullName, "leaf.key"),
            "-subj", "/CN=ed-leaf.example.com", "-out", csr);
        OpenSsl.RunOk(null, "x509", "-req", "-in", csr, "-CA", TestPaths.StepFile("ed-root.crt"), "-CAkey", TestPaths.StepFile("ed-root.key"),
            "-set_serial", "7", "-days", "2", "-extfile", ext, "-out", leafPath);
        var leaf = CertificateFile.ReadCertificates(leafPath)[0];
        var anchors = TrustBundle.Load(TestPaths.StepFile("ed-root.crt"));
        var at = new DateTimeOffset(leaf.NotBefore.ToUniversalTime(), TimeSpan.Zero).AddHours(1);

        var ok = ChainVerifier.Verify(leaf, null, anchors, at, "ed-leaf.example.com");
        Assert.True(ok.IsValid, $"{ok.Status}: {ok.Error}");

        var der = leaf.RawData;
        der[^1] ^= 0x01; // last byte of the signature
        using var damaged = X509CertificateLoader.LoadCertificate(der);
        var bad = ChainVerifier.Verify(damaged, null, anchors, at);
        Assert.Equal(ChainVerificationStatus.BadSignature, bad.Status);
        Assert.Equal(
            "x509: certificate signed by unknown authority (possibly because of \"signature verification failed\" while trying to verify candidate authority certificate \"Ed25519 Root\")",
            bad.Error);
    }
}
