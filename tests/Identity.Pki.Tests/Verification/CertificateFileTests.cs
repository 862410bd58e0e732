using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Verification;

public sealed class CertificateFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("identity-certfile-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    private string Write(string name, byte[] data)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    [Fact]
    public void Reads_every_certificate_of_a_step_bundle_in_order()
    {
        var bundle = CertificateFile.ReadCertificates(TestPaths.StepFile("leaf-bundle.crt"));
        var issuer = CertificateFile.ReadCertificates(TestPaths.StepFile("issuer.crt"));

        Assert.Equal(2, bundle.Count);
        Assert.Equal("CN=web.test.serviceaccount.identity.linkerd.cluster.local", bundle[0].Subject);
        Assert.Equal(issuer[0].RawData, bundle[1].RawData);
    }

    [Fact]
    public void Tolerates_text_before_between_and_after_blocks_and_trailing_blank_lines()
    {
        var root = File.ReadAllText(TestPaths.StepFile("root.crt"));
        var issuer = File.ReadAllText(TestPaths.StepFile("issuer.crt"));
        var path = Write("messy.pem", $"Subject: root\r\n{root}\n\nissuer follows:\n{issuer}\n\n\n   \n");

        var certificates = CertificateFile.ReadCertificates(path);

        Assert.Equal(2, certificates.Count);
        Assert.Equal("CN=root.linkerd.cluster.local", certificates[0].Subject);
    }

    [Fact]
    public void Reads_crlf_line_endings()
    {
        var chain = File.ReadAllText(TestPaths.StepFile("chain.crt")).ReplaceLineEndings("\r\n");

        var certificates = CertificateFile.ReadCertificates(Write("crlf.pem", chain));

        Assert.Equal(2, certificates.Count);
    }

    [Fact]
    public void Reads_der()
    {
        var pem = CertificateFile.ReadCertificates(TestPaths.StepFile("root.crt"))[0];
        var path = Write("root.der", pem.RawData);

        var contents = CertificateFile.Read(path);

        Assert.Equal(CertificateFileFormat.Der, contents.Format);
        Assert.Equal(pem.RawData, Assert.Single(contents.Certificates).RawData);
    }

    [Fact]
    public void Reads_csr_pem_and_der()
    {
        var contents = CertificateFile.Read(TestPaths.StepFile("req.csr"));
        var der = Assert.Single(contents.CertificateRequests);
        Assert.Empty(contents.Certificates);

        var derContents = CertificateFile.Read(Write("req.der", der.ToArray()));
        Assert.Equal(CertificateFileFormat.Der, derContents.Format);
        Assert.Single(derContents.CertificateRequests);

        var ex = Assert.Throws<CertificateFileException>(() => CertificateFile.ReadCertificates(TestPaths.StepFile("req.csr")));
        Assert.Equal($"{TestPaths.StepFile("req.csr")}: contains a certificate request, not a certificate", ex.Message);
    }

    [Fact]
    public void Non_certificate_blocks_are_skipped_not_a_silent_stop()
    {
        var key = File.ReadAllText(TestPaths.StepFile("leaf.key"));
        var leaf = File.ReadAllText(TestPaths.StepFile("leaf.crt"));
        var issuer = File.ReadAllText(TestPaths.StepFile("issuer.crt"));
        var contents = CertificateFile.Read(Write("combined.pem", leaf + key + issuer));

        Assert.Equal(2, contents.Certificates.Count);
        Assert.Equal(["EC PRIVATE KEY"], contents.IgnoredBlockLabels);
    }

    public static TheoryData<string, string, string> BadFiles() => new()
    {
        { "empty.pem", "", "{0}: file is empty" },
        { "blank.pem", "\n\n  \n", "{0}: file is empty" },
        { "key.pem", "KEY", "{0}: no CERTIFICATE PEM block found (found 'EC PRIVATE KEY')" },
        { "truncated.pem", "TRUNCATED", "{0}: truncated or malformed PEM block at line 12" },
        { "badbase64.pem", "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n", "{0}: truncated or malformed PEM block at line 1" },
        { "garbage.bin", "hello world", "{0}: neither PEM nor DER: no '-----BEGIN' line and not valid DER" },
        { "notcert.pem", "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n", "{0}: PEM block 1 is not a valid X.509 certificate: " },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Bad_files_give_precise_errors(string name, string content, string expected)
    {
        var root = File.ReadAllText(TestPaths.StepFile("root.crt"));
        content = content switch
        {
            "KEY" => File.ReadAllText(TestPaths.StepFile("leaf.key")),
            "TRUNCATED" => root + root[..(root.Length / 2)],
            _ => content,
        };
        var path = Write(name, content);

        var ex = Assert.Throws<CertificateFileException>(() => CertificateFile.ReadCertificates(path));

        Assert.StartsWith(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, path), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_and_directory_are_reported_by_path()
    {
        var missing = Path.Combine(_dir.FullName, "nope.crt");
        Assert.Equal($"{missing}: no such file or directory",
            Assert.Throws<CertificateFileException>(() => CertificateFile.Read(missing)).Message);
        Assert.Equal($"{_dir.FullName}: is a directory",
            Assert.Throws<CertificateFileException>(() => CertificateFile.Read(_dir.FullName)).Message);
    }

    [Fact]
    public void Der_with_trailing_bytes_is_rejected()
    {
        var der = X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile("root.crt")).RawData;
        var path = Write("trailing.der", [.. der, 0, 0]);

        var ex = Assert.Throws<CertificateFileException>(() => CertificateFile.Read(path));

        Assert.Equal($"{path}: 2 unexpected bytes after the DER structure", ex.Message);
    }
}
