namespace Identity.Cli.Tests.Cert;

public sealed class InspectCommandTests
{
    [Fact]
    public void Text_matches_step_inspect_leaf_line_for_line()
    {
        var (exit, stdout, stderr) = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("leaf.crt"));

        Assert.Equal("", stderr);
        Assert.Equal(0, exit);
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("inspect-leaf.txt")).Split('\n'), stdout.Split('\n'));
    }

    [Fact]
    public void Short_matches_step_inspect_root_short()
    {
        var (exit, stdout, _) = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("root.crt"), "--short");

        Assert.Equal(0, exit);
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("inspect-root-short.txt")), stdout);
    }
}

public sealed class InspectCommandFormatTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("identity-inspect-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Json_matches_step_inspect_issuer_byte_for_byte()
    {
        var (exit, stdout, _) = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("issuer.crt"), "--format", "json");

        Assert.Equal(0, exit);
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("inspect-issuer.json")), stdout);
    }

    [Fact]
    public void Bundle_json_is_an_array_and_bundle_text_prints_every_certificate()
    {
        var json = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("leaf-bundle.crt"), "--bundle", "--format", "json").Stdout;
        Assert.StartsWith("[\n  {\n    \"version\": 3,", json, StringComparison.Ordinal);

        var text = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("leaf-bundle.crt"), "--bundle", "--short").Stdout;
        Assert.Equal(2, text.Split("X.509v3 ").Length - 1);
        Assert.Contains("X.509v3 Intermediate CA Certificate (ECDSA P-256) [Serial: 5453...7289]\n", text, StringComparison.Ordinal);

        var first = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("leaf-bundle.crt"), "--short").Stdout;
        Assert.Equal(1, first.Split("X.509v3 ").Length - 1);
    }

    [Fact]
    public void Pem_reencodes_exactly_as_step_wrote_the_files()
    {
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("root.crt")), IdentityCli.Run("cert", "inspect", TestPaths.StepFile("root.crt"), "--format", "pem").Stdout);
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("leaf-bundle.crt")),
            IdentityCli.Run("cert", "inspect", TestPaths.StepFile("leaf-bundle.crt"), "--bundle", "--format", "pem").Stdout);
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("req.csr")), IdentityCli.Run("cert", "inspect", TestPaths.StepFile("req.csr"), "--format", "pem").Stdout);
    }

    [Fact]
    public void Der_input_prints_the_same_text_as_pem()
    {
        var pem = File.ReadAllText(TestPaths.StepFile("leaf.crt"));
        var fields = System.Security.Cryptography.PemEncoding.Find(pem);
        var der = Path.Combine(_dir.FullName, "leaf.der");
        File.WriteAllBytes(der, Convert.FromBase64String(pem[fields.Base64Data]));

        Assert.Equal(File.ReadAllText(TestPaths.StepFile("inspect-leaf.txt")), IdentityCli.Run("cert", "inspect", der).Stdout);
    }

    [Fact]
    public void Csr_is_accepted_in_text_and_short_form()
    {
        var (exit, stdout, _) = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("req.csr"), "--short");

        Assert.Equal(0, exit);
        Assert.Equal("X.509v3 Certificate Signing Request (ECDSA P-256)\n  Subject:     csr.example.com\n               10.1.2.3\n", stdout);
        Assert.StartsWith("Certificate Request:\n", IdentityCli.Run("cert", "inspect", TestPaths.StepFile("req.csr")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Csr_json_has_subject_key_and_requested_extensions()
    {
        var (exit, stdout, _) = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("req.csr"), "--format", "json");

        Assert.Equal(0, exit);
        var json = System.Text.Json.Nodes.JsonNode.Parse(stdout)!;
        Assert.Equal(0, json["version"]!.GetValue<int>());
        Assert.Equal("csr.example.com", json["subject"]!["common_name"]![0]!.GetValue<string>());
        Assert.Equal("P-256", json["subject_key_info"]!["ecdsa_public_key"]!["curve"]!.GetValue<string>());
        Assert.Equal("10.1.2.3", json["extensions"]!["subject_alt_name"]!["ip_addresses"]![0]!.GetValue<string>());
        Assert.True(json["signature"]!["valid"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("json")]
    [InlineData("pem")]
    public void Short_with_json_or_pem_is_an_error(string format)
    {
        var (exit, stdout, stderr) = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("root.crt"), "--short", "--format", format);

        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Equal($"flag '--short' is incompatible with '--format {format}'\n", stderr);
    }

    [Fact]
    public void Bad_inputs_are_errors_on_stderr()
    {
        var missing = Path.Combine(_dir.FullName, "missing.crt");
        var (exit, stdout, stderr) = IdentityCli.Run("cert", "inspect", missing);
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Equal($"error reading certificate: {missing}: no such file or directory\n", stderr);

        var key = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("leaf.key"));
        Assert.Equal(1, key.ExitCode);
        Assert.Equal($"error reading certificate: {TestPaths.StepFile("leaf.key")}: no CERTIFICATE or CERTIFICATE REQUEST PEM block found\n", key.Stderr);


        var badFormat = IdentityCli.Run("cert", "inspect", TestPaths.StepFile("root.crt"), "--format", "yaml");
        Assert.Equal(1, badFormat.ExitCode);
        Assert.Contains("yaml", badFormat.Stderr, StringComparison.Ordinal);
    }
}
