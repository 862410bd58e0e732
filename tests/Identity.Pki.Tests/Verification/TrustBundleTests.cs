using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Verification;

public sealed class TrustBundleTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("identity-bundle-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Loads_a_file_with_several_roots()
    {
        var pem = File.ReadAllText(TestPaths.StepFile("root.crt")) + File.ReadAllText(TestPaths.StepFile("rsa-root.crt"));
        var path = Path.Combine(_dir.FullName, "bundle.pem");
        File.WriteAllText(path, pem);

        var bundle = TrustBundle.Load(path);

        Assert.Equal(["CN=root.linkerd.cluster.local", "CN=RSA Root"], bundle.Certificates.Select(c => c.Subject));
        Assert.Equal(2, TrustBundle.FromPem(pem).Certificates.Count);
    }

    [Fact]
    public void ToPem_round_trips_and_matches_step_encoding()
    {
        var bundle = TrustBundle.Load($"{TestPaths.StepFile("root.crt")},{TestPaths.StepFile("rsa-root.crt")}");

        var pem = bundle.ToPem();

        Assert.Equal(File.ReadAllText(TestPaths.StepFile("root.crt")) + File.ReadAllText(TestPaths.StepFile("rsa-root.crt")), pem);
        Assert.Equal(bundle.Certificates.Select(c => c.Thumbprint), TrustBundle.FromPem(pem).Certificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void Loads_a_comma_separated_list_and_drops_duplicates()
    {
        var bundle = TrustBundle.Load($"{TestPaths.StepFile("root.crt")},{TestPaths.StepFile("rsa-root.crt")},{TestPaths.StepFile("root.crt")}");

        Assert.Equal(2, bundle.Certificates.Count);
        Assert.True(bundle.Contains(CertificateFile.ReadCertificates(TestPaths.StepFile("rsa-root.crt"))[0]));
        Assert.False(bundle.Contains(CertificateFile.ReadCertificates(TestPaths.StepFile("issuer.crt"))[0]));
    }

    [Fact]
    public void Loads_a_directory_skipping_files_that_are_not_certificates()
    {
        File.Copy(TestPaths.StepFile("root.crt"), Path.Combine(_dir.FullName, "a.crt"));
        File.Copy(TestPaths.StepFile("rsa-root.crt"), Path.Combine(_dir.FullName, "b.pem"));
        File.WriteAllText(Path.Combine(_dir.FullName, "README"), "roots for the mesh\n");

        var bundle = TrustBundle.Load(_dir.FullName);

        Assert.Equal(2, bundle.Certificates.Count);
    }

    [Fact]
    public void Directory_with_a_corrupt_pem_file_is_an_error()
    {
        File.Copy(TestPaths.StepFile("root.crt"), Path.Combine(_dir.FullName, "a.crt"));
        var bad = Path.Combine(_dir.FullName, "b.crt");
        File.WriteAllText(bad, "-----BEGIN CERTIFICATE-----\nMIIB\n");

        var ex = Assert.Throws<CertificateFileException>(() => TrustBundle.Load(_dir.FullName));

        Assert.Equal($"{bad}: truncated or malformed PEM block at line 1", ex.Message);
    }

    [Fact]
    public void Unreadable_paths_are_errors_not_fallbacks()
    {
        var missing = Path.Combine(_dir.FullName, "missing.crt");
        Assert.Equal($"{missing}: no such file or directory",
            Assert.Throws<CertificateFileException>(() => TrustBundle.Load(missing)).Message);
        Assert.Equal($"{missing}: no such file or directory",
            Assert.Throws<CertificateFileException>(() => TrustBundle.Load(TestPaths.StepFile("root.crt") + "," + missing)).Message);
        Assert.Equal($"{_dir.FullName}: no certificates found in directory",
            Assert.Throws<CertificateFileException>(() => TrustBundle.Load(_dir.FullName)).Message);
        Assert.Throws<CertificateFileException>(() => TrustBundle.FromCertificates([]));
    }
}
