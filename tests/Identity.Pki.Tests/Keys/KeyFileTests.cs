using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki.Certificates;
using Identity.Pki.Keys;

namespace Identity.Pki.Tests.Keys;

public sealed class KeyFileTests
{
    public static TheoryData<string, bool> StepKeys =>
    new()
    {
        { "root", false }, { "issuer", false }, { "leaf", false }, { "leaf-bundle", false }, { "leaf-long", false },
        { "sans", false }, { "selfsigned", false }, { "p384", false }, { "rsa-root", false }, { "rsa-issuer", false },
        { "rsa-leaf-long", false }, { "ed-root", false }, { "signed-by-enc", false },
        { "enc-ec", true }, { "enc-rsa", true }, { "enc-ed", true }, { "enc-issuer", true },
    };

    [Theory]
    [MemberData(nameof(StepKeys))]
    public void Every_step_key_loads_and_matches_its_certificate(string name, bool encrypted)
    {
        var data = File.ReadAllBytes(TestPaths.StepFile(name + ".key"));
        Assert.Equal(encrypted, PrivateKeyPem.IsEncrypted(data, name + ".key"));
        using var key = PrivateKeyPem.Read(data, name + ".key", encrypted ? File.ReadAllText(TestPaths.StepFile("password.txt")).TrimEnd() : null);
        var cert = X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile(name + ".crt"));
        Assert.True(key.Matches(cert));
        using var other = PrivateKey.Generate(KeySpec.Default);
        Assert.False(other.Matches(cert));
    }

    [Fact]
    public void The_csr_key_matches_the_csr()
    {
        using var key = PrivateKeyPem.Read(File.ReadAllBytes(TestPaths.StepFile("req.key")), "req.key", null);
        var csr = SigningRequests.Read(File.ReadAllBytes(TestPaths.StepFile("req.csr")), "req.csr");
        Assert.True(key.Matches(csr.SubjectPublicKeyInfo));
        Assert.Equal("csr.example.com", csr.CommonName);
        Assert.Equal(["csr.example.com"], csr.Sans.DnsNames);
        Assert.Equal("10.1.2.3", Assert.Single(csr.Sans.IPAddresses).ToString());
    }

    [Theory]
    [InlineData("enc-ec")]
    [InlineData("enc-ed")]
    [InlineData("enc-rsa")]
    public void Wrong_or_missing_password_is_a_clear_error(string name)
    {
        var data = File.ReadAllBytes(TestPaths.StepFile(name + ".key"));
        var wrong = Assert.Throws<PkiException>(() => PrivateKeyPem.Read(data, name + ".key", "not the password"));
        Assert.Equal($"error decrypting {name}.key: incorrect password", wrong.Message);
        var missing = Assert.Throws<PkiException>(() => PrivateKeyPem.Read(data, name + ".key", null));
        Assert.Contains("encrypted and no password", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_and_unsupported_blocks_are_clear_errors()
    {
        var garbage = Assert.Throws<PkiException>(() =>
            PrivateKeyPem.Read(Encoding.ASCII.GetBytes("-----BEGIN EC PRIVATE KEY-----\n!!!!\n-----END EC PRIVATE KEY-----\n"), "k", null));
        Assert.Contains("not valid base64", garbage.Message, StringComparison.Ordinal);
        var unsupported = Assert.Throws<PkiException>(() =>
            PrivateKeyPem.Read(Encoding.ASCII.GetBytes("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"), "k", null));
        Assert.Contains("unsupported PEM block type 'OPENSSH PRIVATE KEY'", unsupported.Message, StringComparison.Ordinal);
        var cert = Assert.Throws<PkiException>(() => PrivateKeyPem.Read(File.ReadAllBytes(TestPaths.StepFile("root.crt")), "root.crt", null));
        Assert.Contains("unsupported PEM block type 'CERTIFICATE'", cert.Message, StringComparison.Ordinal);
        var noPem = Assert.Throws<PkiException>(() => PrivateKeyPem.Read(Encoding.ASCII.GetBytes("hello"), "k", null));
        Assert.Contains("not a PEM file", noPem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unencrypted_ec_key_is_sec1_with_curve_and_public_key_like_go()
    {
        using var key = PrivateKey.Generate(KeySpec.Default);
        var pem = PrivateKeyPem.Write(key, null);
        Assert.StartsWith("-----BEGIN EC PRIVATE KEY-----\n", pem, StringComparison.Ordinal);
        Assert.Equal(227, Encoding.ASCII.GetByteCount(pem));
        Assert.Equal(File.ReadAllBytes(TestPaths.StepFile("root.key")).Length, Encoding.ASCII.GetByteCount(pem));
        using var tmp = new TempDirectory("identity-pki-");
        File.WriteAllText(tmp.File("k.pem"), pem);
        var text = OpenSsl.RunOk(tmp.Path, "ec", "-in", "k.pem", "-noout", "-text");
        Assert.Contains("ASN1 OID: prime256v1", text, StringComparison.Ordinal);
        Assert.Contains("pub:", text, StringComparison.Ordinal);
    }

    public static TheoryData<string, bool> OurKeys =>
    new()
    {
        { "EC P-256", false }, { "EC P-384", false }, { "EC P-521", false }, { "RSA 2048", false }, { "Ed25519", false },
        { "EC P-256", true }, { "EC P-384", true }, { "EC P-521", true }, { "RSA 3072", true }, { "Ed25519", true },
    };

    [Theory]
    [MemberData(nameof(OurKeys))]
    public void Openssl_reads_every_key_we_write_and_we_read_it_back(string description, bool encrypted)
    {
        var spec = description switch
        {
            "RSA 2048" => KeySpec.Rsa(2048),
            "RSA 3072" => KeySpec.Rsa(3072),
            "Ed25519" => KeySpec.Ed25519,
            _ => KeySpec.Ec(description[3..]),
        };
        using var key = PrivateKey.Generate(spec);
        Assert.Equal(description, key.Description);
        const string password = "s3cret pass";
        var pem = PrivateKeyPem.Write(key, encrypted ? password : null);
        using var tmp = new TempDirectory("identity-pki-");
        File.WriteAllText(tmp.File("key.pem"), pem);
        File.WriteAllText(tmp.File("pass.txt"), password + "\n");
        var expectedLabel = (spec.Kind, encrypted) switch
        {
            (KeyKind.Ed25519, true) => "ENCRYPTED PRIVATE KEY",
            (KeyKind.Ed25519, false) => "PRIVATE KEY",
            (KeyKind.Rsa, _) => "RSA PRIVATE KEY",
            _ => "EC PRIVATE KEY",
        };
        Assert.StartsWith($"-----BEGIN {expectedLabel}-----\n", pem, StringComparison.Ordinal);
        if (encrypted && spec.Kind != KeyKind.Ed25519)
        {
            Assert.Matches("\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,[0-9a-f]{32}\n\n", pem);
        }

        var args = new List<string> { "pkey", "-in", "key.pem", "-pubout" };
        if (encrypted)
        {
            args.AddRange(["-passin", "file:pass.txt"]);
        }

        var pub = OpenSsl.RunOk(tmp.Path, [.. args]);
        Assert.Equal(
            Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()),
            string.Concat(pub.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal))));
        if (spec.Kind == KeyKind.Ec)
        {
            OpenSsl.RunOk(tmp.Path, encrypted ? ["ec", "-in", "key.pem", "-noout", "-passin", "file:pass.txt"] : ["ec", "-in", "key.pem", "-noout"]);
        }

        if (encrypted && spec.Kind == KeyKind.Ed25519)
        {
            var asn1 = OpenSsl.RunOk(tmp.Path, "asn1parse", "-in", "key.pem");
            Assert.Contains("PBES2", asn1, StringComparison.Ordinal);
            Assert.Contains("hmacWithSHA256", asn1, StringComparison.Ordinal);
            Assert.Contains("aes-256-cbc", asn1, StringComparison.Ordinal);
            Assert.Contains("INTEGER           :0927C0", asn1, StringComparison.Ordinal); // 600000 iterations
        }

        using var back = PrivateKeyPem.Read(Encoding.ASCII.GetBytes(pem), "key.pem", encrypted ? password : null);
        Assert.True(back.Matches(key.ExportSubjectPublicKeyInfo()));
    }

    public static TheoryData<string, string[]> OpensslKeys =>
    new()
    {
        { "ecparam-sec1", ["ecparam", "-name", "prime256v1", "-genkey", "-out", "key.pem"] },
        { "genpkey-ec-pkcs8", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "key.pem"] },
        { "genpkey-rsa-pkcs8", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem"] },
        { "genpkey-ed25519", ["genpkey", "-algorithm", "ED25519", "-out", "key.pem"] },
        { "genpkey-ec-encrypted-pkcs8", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass", "file:pass.txt", "-out", "key.pem"] },
    };

    [Theory]
    [MemberData(nameof(OpensslKeys))]
    public void Keys_made_by_openssl_load(string name, string[] args)
    {
        using var tmp = new TempDirectory("identity-pki-");
        File.WriteAllText(tmp.File("pass.txt"), "pw-" + name + "\n");
        OpenSsl.RunOk(tmp.Path, args);
        var data = File.ReadAllBytes(tmp.File("key.pem"));
        var encrypted = PrivateKeyPem.IsEncrypted(data, "key.pem");
        using var key = PrivateKeyPem.Read(data, "key.pem", encrypted ? "pw-" + name : null);
        var pub = OpenSsl.RunOk(tmp.Path, encrypted ? ["pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-passin", "file:pass.txt", "-out", "pub.der"] : ["pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der"]);
        Assert.True(key.Matches(File.ReadAllBytes(tmp.File("pub.der"))), pub);
    }

    [Theory]
    [InlineData("openssl ec -aes256", new[] { "ec", "-in", "plain.pem", "-aes256", "-passout", "file:pass.txt", "-out", "key.pem" })]
    [InlineData("openssl ec -aes128", new[] { "ec", "-in", "plain.pem", "-aes128", "-passout", "file:pass.txt", "-out", "key.pem" })]
    [InlineData("openssl pkcs8 -topk8 -v2 aes-256-cbc", new[] { "pkcs8", "-topk8", "-in", "plain.pem", "-v2", "aes-256-cbc", "-passout", "file:pass.txt", "-out", "key.pem" })]
    [InlineData("openssl pkcs8 -topk8 -nocrypt", new[] { "pkcs8", "-topk8", "-in", "plain.pem", "-nocrypt", "-out", "key.pem" })]
    [InlineData("openssl rsa -aes256 -traditional", new[] { "rsa", "-in", "rsa.pem", "-aes256", "-traditional", "-passout", "file:pass.txt", "-out", "key.pem" })]
    public void Converted_openssl_keys_load(string what, string[] args)
    {
        using var tmp = new TempDirectory("identity-pki-");
        File.WriteAllText(tmp.File("pass.txt"), "pass phrase\n");
        OpenSsl.RunOk(tmp.Path, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "plain.pem");
        OpenSsl.RunOk(tmp.Path, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem");
        OpenSsl.RunOk(tmp.Path, args);
        var data = File.ReadAllBytes(tmp.File("key.pem"));
        using var key = PrivateKeyPem.Read(data, "key.pem", PrivateKeyPem.IsEncrypted(data, "key.pem") ? "pass phrase" : null);
        var source = args.Contains("rsa.pem") ? "rsa.pem" : "plain.pem";
        using var original = PrivateKeyPem.Read(File.ReadAllBytes(tmp.File(source)), source, null);
        Assert.True(key.Matches(original.ExportSubjectPublicKeyInfo()), what);
    }
}
