using System.Security.Cryptography.X509Certificates;

namespace Identity.Cli.Tests.Cert;

// POSIX file modes are part of what these tests check; the suite runs on Linux (openssl at /usr/bin).
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CertCreateTests
{
    private const string Insecure = "--insecure";

    [Fact]
    public void Seed_guide_commands_make_a_chain_openssl_verifies()
    {
        using var dir = new TempDirectory("identity-cli-");
        var root = IdentityCli.RunOk("cert", "create", "root.linkerd.cluster.local", dir["root.crt"], dir["root.key"], "--profile", "root-ca", "--no-password", Insecure);
        Assert.Equal(string.Empty, root.Stdout);
        Assert.Equal(
            $"Your certificate has been saved in {dir["root.crt"]}.\nYour private key has been saved in {dir["root.key"]}.\n",
            root.Stderr.Replace("\r\n", "\n", StringComparison.Ordinal));
        IdentityCli.RunOk("cert", "create", "identity.linkerd.cluster.local", dir["issuer.crt"], dir["issuer.key"],
            "--profile", "intermediate-ca", "--not-after", "8760h", "--no-password", Insecure, "--ca", dir["root.crt"], "--ca-key", dir["root.key"]);
        IdentityCli.RunOk("cert", "create", "web.test.serviceaccount.identity.linkerd.cluster.local", dir["leaf.crt"], dir["leaf.key"],
            "--ca", dir["issuer.crt"], "--ca-key", dir["issuer.key"], "--no-password", Insecure);

        OpenSsl.RunOk(dir.Path, "verify", "-CAfile", "root.crt", "-untrusted", "issuer.crt", "leaf.crt");
        foreach (var file in new[] { "root.crt", "root.key", "issuer.crt", "issuer.key", "leaf.crt", "leaf.key" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir[file]));
        }

        Assert.StartsWith("-----BEGIN EC PRIVATE KEY-----\n", File.ReadAllText(dir["root.key"]), StringComparison.Ordinal);
        var issuer = X509CertificateLoader.LoadCertificateFromFile(dir["issuer.crt"]);
        Assert.Equal(TimeSpan.FromHours(8760), issuer.NotAfter - issuer.NotBefore);
        var rootCert = X509CertificateLoader.LoadCertificateFromFile(dir["root.crt"]);
        Assert.Equal(TimeSpan.FromHours(87600), rootCert.NotAfter - rootCert.NotBefore);
        Assert.Equal(
            StepExtensionOids("root.crt"), string.Join(',', rootCert.Extensions.Select(e => e.Oid!.Value)));
        Assert.Equal(
            StepExtensionOids("issuer.crt"), string.Join(',', issuer.Extensions.Select(e => e.Oid!.Value)));
        var leaf = X509CertificateLoader.LoadCertificateFromFile(dir["leaf.crt"]);
        Assert.Equal(
            StepExtensionOids("leaf.crt"), string.Join(',', leaf.Extensions.Select(e => e.Oid!.Value)));
    }

    [Fact]
    public void Step_made_ca_and_encrypted_step_ca_key_sign_for_us()
    {
        // The step issuer (valid for a year from the vectors' date) and step's encrypted intermediate key.
        using var dir = new TempDirectory("identity-cli-");
        IdentityCli.RunOk("cert", "create", "byenc.example.com", dir["a.crt"], dir["a.key"], "--ca", TestPaths.StepFile("enc-issuer.crt"),
            "--ca-key", TestPaths.StepFile("enc-issuer.key"), "--ca-password-file", TestPaths.StepFile("password.txt"), "--no-password", Insecure,
            "--bundle");
        File.Copy(TestPaths.StepFile("root.crt"), dir["root.crt"]);
        OpenSsl.RunOk(dir.Path, "verify", "-CAfile", "root.crt", "-untrusted", "a.crt", "a.crt");
        Assert.Equal(2, File.ReadAllText(dir["a.crt"]).Split("-----BEGIN CERTIFICATE-----").Length - 1);
    }

    [Theory]
    [InlineData("EC", null, null, "EC PRIVATE KEY")]
    [InlineData("EC", "P-384", null, "EC PRIVATE KEY")]
    [InlineData("RSA", null, "3072", "RSA PRIVATE KEY")]
    [InlineData("OKP", "Ed25519", null, "ENCRYPTED PRIVATE KEY")]
    public void Encrypted_keys_we_write_open_with_openssl(string kty, string? crv, string? size, string label)
    {
        using var dir = new TempDirectory("identity-cli-");
        // openssl keeps trailing spaces of the first line, step trims them: use a password without any.
        File.WriteAllText(dir["pw.txt"], "correct horse\n");
        var args = new List<string> { "cert", "create", "self.example.com", dir["s.crt"], dir["s.key"], "--profile", "self-signed", "--subtle", "--kty", kty, "--password-file", dir["pw.txt"] };
        if (crv is not null)
        {
            args.AddRange(["--crv", crv]);
        }

        if (size is not null)
        {
            args.AddRange(["--size", size]);
        }

        IdentityCli.RunOk([.. args]);
        Assert.StartsWith($"-----BEGIN {label}-----\n", File.ReadAllText(dir["s.key"]), StringComparison.Ordinal);
        var pub = OpenSsl.RunOk(dir.Path, "pkey", "-in", "s.key", "-passin", "file:pw.txt", "-pubout");
        var certPub = OpenSsl.RunOk(dir.Path, "x509", "-in", "s.crt", "-noout", "-pubkey");
        Assert.Equal(certPub, pub);
        OpenSsl.RunOk(dir.Path, "verify", "-CAfile", "s.crt", "-partial_chain", "s.crt");

        // And the key is usable again through --key with the same password file.
        IdentityCli.RunOk("cert", "create", "again.example.com", dir["again.crt"], "--profile", "self-signed", "--subtle",
            "--key", dir["s.key"], "--password-file", dir["pw.txt"]);
        Assert.Equal(certPub, OpenSsl.RunOk(dir.Path, "x509", "-in", "again.crt", "-noout", "-pubkey"));
    }

    public static TheoryData<string, string[]> OpensslCaKeys =>
    new()
    {
        { "ecparam SEC1", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"] },
        { "genpkey EC PKCS#8", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "ca.key"] },
        { "genpkey RSA PKCS#8", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "ca.key"] },
        { "pkcs8 -topk8 -v2 aes-256-cbc", ["pkcs8", "-topk8", "-in", "plain.key", "-v2", "aes-256-cbc", "-passout", "file:pw.txt", "-out", "ca.key"] },
        { "ec -aes256", ["ec", "-in", "plain.key", "-aes256", "-passout", "file:pw.txt", "-out", "ca.key"] },
        { "rsa -aes256 -traditional", ["rsa", "-in", "plain-rsa.key", "-aes256", "-traditional", "-passout", "file:pw.txt", "-out", "ca.key"] },
    };

    [Theory]
    [MemberData(nameof(OpensslCaKeys))]
    public void Openssl_made_ca_certificates_and_keys_sign_in_our_tools(string what, string[] keyCommand)
    {
        using var dir = new TempDirectory("identity-cli-");
        File.WriteAllText(dir["pw.txt"], "pass phrase\n");
        OpenSsl.RunOk(dir.Path, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "plain.key");
        if (what.StartsWith("rsa", StringComparison.Ordinal))
        {
            OpenSsl.RunOk(dir.Path, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "plain-rsa.key");
        }

        OpenSsl.RunOk(dir.Path, keyCommand);
        var encrypted = File.ReadAllText(dir["ca.key"]).Contains("ENCRYPTED", StringComparison.Ordinal);
        var pass = encrypted ? new[] { "-passin", "file:pw.txt" } : [];
        OpenSsl.RunOk(dir.Path, ["req", "-x509", "-new", "-key", "ca.key", .. pass, "-subj", "/CN=OpenSSL CA", "-days", "30",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.crt"]);

        var args = new List<string> { "cert", "create", "leaf.example.com", dir["leaf.crt"], dir["leaf.key"], "--ca", dir["ca.crt"], "--ca-key", dir["ca.key"], "--no-password", Insecure };
        if (encrypted)
        {
            args.AddRange(["--ca-password-file", dir["pw.txt"]]);
        }

        IdentityCli.RunOk([.. args]);
        OpenSsl.RunOk(dir.Path, "verify", "-CAfile", "ca.crt", "leaf.crt");

        // cert sign with the same CA and an openssl CSR.
        OpenSsl.RunOk(dir.Path, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "csr.key",
            "-subj", "/CN=csr.example.com", "-addext", "subjectAltName=DNS:csr.example.com,IP:10.9.8.7", "-out", "req.csr");
        var signArgs = new List<string> { "cert", "sign", dir["req.csr"], dir["ca.crt"], dir["ca.key"] };
        if (encrypted)
        {
            signArgs.AddRange(["--password-file", dir["pw.txt"]]);
        }

        var signed = IdentityCli.RunOk([.. signArgs]);
        File.WriteAllText(dir["signed.crt"], signed.Stdout);
        OpenSsl.RunOk(dir.Path, "verify", "-CAfile", "ca.crt", "signed.crt");
        var text = OpenSsl.RunOk(dir.Path, "x509", "-in", "signed.crt", "-noout", "-text");
        Assert.Contains("DNS:csr.example.com, IP Address:10.9.8.7", text, StringComparison.Ordinal);
        Assert.Contains("Subject: CN = csr.example.com", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_issues_from_steps_csr_with_its_cn_and_sans()
    {
        using var dir = new TempDirectory("identity-cli-");
        IdentityCli.RunOk("cert", "create", "Root", dir["root.crt"], dir["root.key"], "--profile", "root-ca", "--no-password", Insecure);
        var result = IdentityCli.RunOk("cert", "sign", TestPaths.StepFile("req.csr"), dir["root.crt"], dir["root.key"], "--not-after", "2h", "--bundle");
        Assert.Equal(string.Empty, result.Stderr);
        File.WriteAllText(dir["out.crt"], result.Stdout);
        var cert = X509CertificateLoader.LoadCertificateFromFile(dir["out.crt"]);
        Assert.Equal("CN=csr.example.com", cert.Subject);
        Assert.Equal(TimeSpan.FromHours(2), cert.NotAfter - cert.NotBefore);
        Assert.Equal("2.5.29.15,2.5.29.37,2.5.29.14,2.5.29.35,2.5.29.17", string.Join(',', cert.Extensions.Select(e => e.Oid!.Value)));
        var text = OpenSsl.RunOk(dir.Path, "x509", "-in", "out.crt", "-noout", "-ext", "subjectAltName");
        Assert.Contains("DNS:csr.example.com, IP Address:10.1.2.3", text, StringComparison.Ordinal);
        OpenSsl.RunOk(dir.Path, "verify", "-CAfile", "root.crt", "out.crt");
        Assert.Equal(2, result.Stdout.Split("-----BEGIN CERTIFICATE-----").Length - 1);
    }

    [Fact]
    public void Sign_accepts_an_ed25519_csr_and_an_rsa_csr()
    {
        using var dir = new TempDirectory("identity-cli-");
        IdentityCli.RunOk("cert", "create", "Root", dir["root.crt"], dir["root.key"], "--profile", "root-ca", "--kty", "OKP", "--no-password", Insecure);
        IdentityCli.RunOk("cert", "create", "ed.example.com", dir["ed.csr"], dir["ed.key"], "--csr", "--kty", "OKP", "--no-password", Insecure);
        IdentityCli.RunOk("cert", "create", "rsa.example.com", dir["rsa.csr"], dir["rsa.key"], "--csr", "--kty", "RSA", "--no-password", Insecure);
        foreach (var name in new[] { "ed", "rsa" })
        {
            var result = IdentityCli.RunOk("cert", "sign", dir[name + ".csr"], dir["root.crt"], dir["root.key"]);
            File.WriteAllText(dir[name + ".crt"], result.Stdout);
            OpenSsl.RunOk(dir.Path, "verify", "-CAfile", "root.crt", name + ".crt");
            var text = OpenSsl.RunOk(dir.Path, "x509", "-in", name + ".crt", "-noout", "-text");
            Assert.Contains($"DNS:{name}.example.com", text, StringComparison.Ordinal);
            Assert.Contains("Signature Algorithm: ED25519", text, StringComparison.Ordinal);
            Assert.Contains(name == "rsa" ? "Digital Signature, Key Encipherment" : "Digital Signature\n", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validity_uses_the_injected_clock_and_steps_duration_rules()
    {
        var now = new DateTimeOffset(2030, 5, 6, 7, 8, 9, 500, TimeSpan.Zero);
        var root = new System.CommandLine.RootCommand();
        root.Subcommands.Add(Identity.Cli.Cert.CertCommand.Create(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now)));
        using var dir = new TempDirectory("identity-cli-");
        var error = new StringWriter();
        var code = root.Parse(["cert", "create", "Root", dir["r.crt"], dir["r.key"], "--profile", "root-ca", "--not-before", "-1h", "--not-after", "2h45m", "--no-password", Insecure])
            .Invoke(new System.CommandLine.InvocationConfiguration { Output = new StringWriter(), Error = error });
        Assert.True(code == 0, error.ToString());
        var cert = X509CertificateLoader.LoadCertificateFromFile(dir["r.crt"]);
        Assert.Equal(new DateTime(2030, 5, 6, 6, 8, 9, DateTimeKind.Utc), cert.NotBefore.ToUniversalTime());
        Assert.Equal(new DateTime(2030, 5, 6, 9, 53, 9, DateTimeKind.Utc), cert.NotAfter.ToUniversalTime());

        code = root.Parse(["cert", "create", "Root2", dir["r2.crt"], dir["r2.key"], "--profile", "root-ca", "--not-before", "2031-01-01T00:00:00Z", "--no-password", Insecure])
            .Invoke(new System.CommandLine.InvocationConfiguration { Output = new StringWriter(), Error = error });
        Assert.True(code == 0, error.ToString());
        cert = X509CertificateLoader.LoadCertificateFromFile(dir["r2.crt"]);
        Assert.Equal(new DateTime(2031, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddHours(87600), cert.NotAfter.ToUniversalTime());
    }

    [Fact]
    public void Csr_flag_writes_a_request_openssl_verifies()
    {
        using var dir = new TempDirectory("identity-cli-");
        var result = IdentityCli.RunOk("cert", "create", "csr.example.com", dir["r.csr"], dir["r.key"], "--csr", "--san", "csr.example.com", "--san", "10.1.2.3", "--no-password", Insecure);
        Assert.StartsWith($"Your certificate signing request has been saved in {dir["r.csr"]}.", result.Stderr, StringComparison.Ordinal);
        var text = OpenSsl.RunOk(dir.Path, "req", "-in", "r.csr", "-verify", "-noout", "-text");
        Assert.Contains("DNS:csr.example.com, IP Address:10.1.2.3", text, StringComparison.Ordinal);
        Assert.Contains("Version: 1 (0x0)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Bundle_is_the_first_block_of_each_input_like_cat()
    {
        using var dir = new TempDirectory("identity-cli-");
        var result = IdentityCli.RunOk("cert", "bundle", TestPaths.StepFile("leaf.crt"), TestPaths.StepFile("chain.crt"), dir["b.crt"]);
        Assert.Equal($"Your certificate has been saved in {dir["b.crt"]}.\n", result.Stderr.Replace("\r\n", "\n", StringComparison.Ordinal));
        var chainFirst = File.ReadAllText(TestPaths.StepFile("chain.crt")).Split("-----END CERTIFICATE-----\n")[0] + "-----END CERTIFICATE-----\n";
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("leaf.crt")) + chainFirst, File.ReadAllText(dir["b.crt"]));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir["b.crt"]));
        IdentityCli.RunOk("cert", "bundle", TestPaths.StepFile("leaf-bundle.crt"), TestPaths.StepFile("issuer.crt"), dir["b.crt"], "-f");
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("leaf-bundle.crt")), File.ReadAllText(dir["b.crt"]));
    }

    [Fact]
    public void Der_inputs_and_our_encrypted_ca_keys_work()
    {
        using var dir = new TempDirectory("identity-cli-");
        File.WriteAllText(dir["pw.txt"], "ca password\n");
        IdentityCli.RunOk("cert", "create", "Root", dir["root.crt"], dir["root.key"], "--profile", "root-ca", "--password-file", dir["pw.txt"]);
        IdentityCli.RunOk("cert", "create", "Issuer", dir["issuer.crt"], dir["issuer.key"], "--profile", "intermediate-ca",
            "--ca", dir["root.crt"], "--ca-key", dir["root.key"], "--ca-password-file", dir["pw.txt"], "--password-file", dir["pw.txt"]);
        OpenSsl.RunOk(dir.Path, "x509", "-in", "issuer.crt", "-outform", "DER", "-out", "issuer.der");
        OpenSsl.RunOk(dir.Path, "pkcs8", "-topk8", "-nocrypt", "-in", "issuer.key", "-passin", "file:pw.txt", "-outform", "DER", "-out", "issuer-key.der");
        OpenSsl.RunOk(dir.Path, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "c.key",
            "-subj", "/CN=der.example.com", "-outform", "DER", "-out", "req.der");

        IdentityCli.RunOk("cert", "create", "leaf.example.com", dir["leaf.crt"], dir["leaf.key"], "--ca", dir["issuer.der"], "--ca-key", dir["issuer-key.der"], "--no-password", Insecure);
        OpenSsl.RunOk(dir.Path, "verify", "-CAfile", "root.crt", "-untrusted", "issuer.crt", "leaf.crt");
        var signed = IdentityCli.RunOk("cert", "sign", dir["req.der"], dir["issuer.der"], dir["issuer-key.der"]);
        File.WriteAllText(dir["signed.crt"], signed.Stdout);
        OpenSsl.RunOk(dir.Path, "verify", "-CAfile", "root.crt", "-untrusted", "issuer.crt", "signed.crt");
        Assert.Contains("DNS:der.example.com", OpenSsl.RunOk(dir.Path, "x509", "-in", "signed.crt", "-noout", "-ext", "subjectAltName"), StringComparison.Ordinal);
    }

    [Fact]
    public void Force_overwrites_existing_files()
    {
        using var dir = new TempDirectory("identity-cli-");
        IdentityCli.RunOk("cert", "create", "a", dir["a.crt"], dir["a.key"], "--profile", "root-ca", "--no-password", Insecure);
        var before = File.ReadAllText(dir["a.key"]);
        IdentityCli.RunOk("cert", "create", "a", dir["a.crt"], dir["a.key"], "--profile", "root-ca", "--no-password", Insecure, "-f");
        Assert.NotEqual(before, File.ReadAllText(dir["a.key"]));
        Assert.Equal(2, Directory.GetFiles(dir.Path).Length);
    }

    private static string StepExtensionOids(string file) =>
        string.Join(',', X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile(file)).Extensions.Select(e => e.Oid!.Value));
}
