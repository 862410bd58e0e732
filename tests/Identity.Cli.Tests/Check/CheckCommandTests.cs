using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using static Identity.Cli.Tests.Check.CheckFixtures;

namespace Identity.Cli.Tests.Check;

public sealed class CheckCommandTests : IDisposable
{
    private const string ConfigValid = "certificate config is valid";
    private const string AnchorsAlgo = "trust anchors are using supported crypto algorithm";
    private const string AnchorsValid = "trust anchors are within their validity period";
    private const string Anchors60 = "trust anchors are valid for at least 60 days";
    private const string IssuerAlgo = "issuer cert is using supported crypto algorithm";
    private const string IssuerValid = "issuer cert is within its validity period";
    private const string Issuer60 = "issuer cert is valid for at least 60 days";
    private const string IssuedBy = "issuer cert is issued by the trust anchor";
    private const string KeyMatches = "issuer key matches certificate";
    private const string FitForIssuing = "issuer cert is a CA with a path length and key usage fit for issuing";
    private const string GoPem = "trust anchors and issuer cert PEM parse like linkerd-identity does";

    private static readonly string[] AllChecks = [ConfigValid, AnchorsAlgo, AnchorsValid, Anchors60, IssuerAlgo, IssuerValid, Issuer60, IssuedBy, KeyMatches, FitForIssuing, GoPem];

    private readonly string _dir = Directory.CreateTempSubdirectory("identity-check-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<(CliResult Result, List<(string Name, string Status, string Message)> Rows)> CheckJsonAsync(
        string anchorsPem, string issuerPem, string keyPem, params string[] extra)
    {
        var args = new[]
        {
            "check", "--anchors", Write("ca-bundle.crt", anchorsPem), "--issuer-cert", Write("issuer.crt", issuerPem),
            "--issuer-key", Write("issuer.key", keyPem), "--output", "json",
        }.Concat(extra).ToArray();
        var result = await IdentityCli.RunAsync(args);
        return (result, ParseRows(result.Stdout));
    }

    internal static List<(string Name, string Status, string Message)> ParseRows(string json, string? category = "linkerd-identity")
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray()
            .Where(e => category is null || e.GetProperty("category").GetString() == category)
            .Select(e => (e.GetProperty("name").GetString()!, e.GetProperty("status").GetString()!, e.GetProperty("message").GetString()!))
            .ToList();
    }

    private static void AssertStatuses(List<(string Name, string Status, string Message)> rows, params (string Name, string Status)[] expected) =>
        Assert.Equal(expected.Select(e => $"{e.Name}: {e.Status}"), rows.Select(r => $"{r.Name}: {r.Status}"));

    private static (string, string)[] AllOkExcept(params (string Name, string Status)[] overrides) =>
        AllChecks.Select(n => (n, overrides.FirstOrDefault(o => o.Name == n).Status ?? "ok")).ToArray();

    [Fact]
    public async Task Valid_credentials_pass_every_check_with_exit_0()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root);

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        AssertStatuses(rows, AllOkExcept());
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
    }

    [Fact]
    public async Task Json_output_is_an_array_of_category_name_status_message()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, notAfter: Now + TimeSpan.FromDays(30));

        var (result, _) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        using var document = JsonDocument.Parse(result.Stdout);
        Assert.Equal(JsonValueKind.Array, document.RootElement.ValueKind);
        Assert.All(document.RootElement.EnumerateArray(), e =>
            Assert.Equal(["category", "name", "status", "message"], e.EnumerateObject().Select(p => p.Name)));
        var warning = document.RootElement.EnumerateArray().Single(e => e.GetProperty("status").GetString() == "warning");
        Assert.Equal("linkerd-identity", warning.GetProperty("category").GetString());
        Assert.Equal(Issuer60, warning.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Table_output_groups_checks_with_markers_and_a_status_line()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, notAfter: Now + TimeSpan.FromDays(30));

        var result = await IdentityCli.RunAsync("check", "--anchors", Write("a.crt", root.CertificatePem),
            "--issuer-cert", Write("i.crt", issuer.CertificatePem), "--issuer-key", Write("i.key", issuer.KeyPem));

        var expectedExpiry = Rfc(Now.AddDays(30));
        Assert.Equal(
            $"""
            linkerd-identity
            ----------------
            √ {ConfigValid}
            √ {AnchorsAlgo}
            √ {AnchorsValid}
            √ {Anchors60}
            √ {IssuerAlgo}
            √ {IssuerValid}
            ‼ {Issuer60}
                will expire on {expectedExpiry}
                see https://linkerd.io/2/checks/#l5d-identity-issuer-cert-not-expiring-soon for hints
            √ {IssuedBy}
            √ {KeyMatches}
            √ {FitForIssuing}
            √ {GoPem}

            Status check results are √ (with warnings ‼)

            """.ReplaceLineEndings("\n"),
            result.Stdout.ReplaceLineEndings("\n"));
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Table_status_line_explains_a_strict_failure()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, notAfter: Now + TimeSpan.FromDays(30));

        var result = await IdentityCli.RunAsync("check", "--strict", "--anchors", Write("a.crt", root.CertificatePem),
            "--issuer-cert", Write("i.crt", issuer.CertificatePem), "--issuer-key", Write("i.key", issuer.KeyPem));

        Assert.EndsWith("\nStatus check results are × (warnings fail with --strict)\n", result.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Issuer_expiring_in_30_days_warns_exit_0_and_exit_1_with_strict()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, notAfter: Now + TimeSpan.FromDays(30));

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);
        var (strict, _) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem, "--strict");

        AssertStatuses(rows, AllOkExcept((Issuer60, "warning")));
        Assert.Equal($"will expire on {Rfc(Now.AddDays(30))}", rows.Single(r => r.Name == Issuer60).Message);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(1, strict.ExitCode);
    }

    [Fact]
    public async Task Warning_days_changes_the_threshold_and_the_check_name()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, notAfter: Now + TimeSpan.FromDays(30));

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem, "--warning-days", "20", "--strict");

        Assert.Contains(("issuer cert is valid for at least 20 days", "ok"), rows.Select(r => (r.Name, r.Status)));
        Assert.Contains(("trust anchors are valid for at least 20 days", "ok"), rows.Select(r => (r.Name, r.Status)));
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Anchor_expiring_soon_is_listed_by_serial_and_cn()
    {
        var old = Ca.Root("old-root", notAfter: Now + TimeSpan.FromDays(10));
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root);

        var (result, rows) = await CheckJsonAsync(old.CertificatePem + root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        AssertStatuses(rows, AllOkExcept((Anchors60, "warning")));
        Assert.Equal(
            $"Anchors expiring soon:\n* {SerialDecimal(old.Certificate)} old-root will expire on {Rfc(Now.AddDays(10))}",
            rows.Single(r => r.Name == Anchors60).Message);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Expired_issuer_is_fatal_with_linkerds_message()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, notBefore: Now + TimeSpan.FromDays(-400), notAfter: Now + TimeSpan.FromDays(-35));

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        // Fatal: the checks after it are not run, as in `linkerd check`.
        AssertStatuses(rows, (ConfigValid, "ok"), (AnchorsAlgo, "ok"), (AnchorsValid, "ok"), (Anchors60, "ok"), (IssuerAlgo, "ok"), (IssuerValid, "error"));
        Assert.Equal($"not valid anymore. Expired on {Rfc(Now.AddDays(-35))}", rows[^1].Message);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Expired_anchor_is_fatal_and_listed()
    {
        var root = Ca.Root(notBefore: Now + TimeSpan.FromDays(-800), notAfter: Now + TimeSpan.FromDays(-1));
        var issuer = Ca.Intermediate(root);

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        AssertStatuses(rows, (ConfigValid, "ok"), (AnchorsAlgo, "ok"), (AnchorsValid, "error"));
        Assert.Equal(
            $"Invalid anchors:\n* {SerialDecimal(root.Certificate)} root.linkerd.cluster.local not valid anymore. Expired on {Rfc(Now.AddDays(-1))}",
            rows[^1].Message);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Not_yet_valid_issuer_reports_not_valid_before()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, notBefore: Now + TimeSpan.FromDays(1), notAfter: Now + TimeSpan.FromDays(300));

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        Assert.Equal((IssuerValid, "error", $"not valid before: {Rfc(Now.AddDays(1))}"), rows[^1]);
        Assert.Equal(1, result.ExitCode);
    }

    [Theory]
    [InlineData("P-384")]
    [InlineData("P-521")]
    public async Task Issuer_on_another_curve_is_rejected(string curve)
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, key: curve == "P-384" ? TestKeyType.EcP384 : TestKeyType.EcP521);

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        Assert.Equal((IssuerAlgo, "error", $"must use P-256 curve for public key, instead {curve} was used"), rows[^1]);
        Assert.Equal(5, rows.Count);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Rsa_2048_anchor_is_allowed()
    {
        var root = Ca.Root(key: TestKeyType.Rsa2048);
        var issuer = Ca.Intermediate(root);

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        AssertStatuses(rows, AllOkExcept());
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Rsa_3072_anchor_is_rejected()
    {
        var root = Ca.Root(key: TestKeyType.Rsa3072);
        var issuer = Ca.Intermediate(root);

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        Assert.Equal(AnchorsAlgo, rows[^1].Name);
        Assert.Equal("error", rows[^1].Status);
        Assert.EndsWith("must use a 2048 or 4096 bit RSA key, instead 3072 bits were used", rows[^1].Message, StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Rsa_issuer_is_rejected()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, key: TestKeyType.Rsa2048);

        var (_, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        Assert.Equal((IssuerAlgo, "error", "must use ECDSA for public key algorithm, instead RSA was used"), rows[^1]);
    }

    [Fact]
    public async Task Issuer_not_signed_by_the_anchors_is_an_error()
    {
        var root = Ca.Root("root-a");
        var other = Ca.Root("root-b");
        var issuer = Ca.Intermediate(other);

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        AssertStatuses(rows, AllOkExcept((IssuedBy, "error")));
        Assert.Equal(
            "certificate signed by unknown authority: the chain of CN=identity.linkerd.cluster.local ends at CN=identity.linkerd.cluster.local, issued by CN=root-b, which is not one of the 1 trust anchor(s)",
            rows.Single(r => r.Name == IssuedBy).Message);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Issuer_with_an_eku_lacking_server_auth_fails_the_chain_like_the_controller()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, extendedKeyUsages: ["1.3.6.1.5.5.7.3.2"]);

        var (_, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        var row = rows.Single(r => r.Name == IssuedBy);
        Assert.Equal("error", row.Status);
        Assert.Contains("without serverAuth", row.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Issuer_chain_in_the_issuer_file_is_used_as_intermediates()
    {
        var root = Ca.Root(pathLength: 2);
        var intermediate = Ca.Intermediate(root, "intermediate", pathLength: 1);
        var issuer = Ca.Intermediate(intermediate);

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem + intermediate.CertificatePem, issuer.KeyPem);

        AssertStatuses(rows, AllOkExcept());
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Expired_intermediate_in_the_issuer_file_fails_issuer_validity()
    {
        var root = Ca.Root(pathLength: 2);
        var intermediate = Ca.Intermediate(root, "intermediate", pathLength: 1, notBefore: Now + TimeSpan.FromDays(-400), notAfter: Now + TimeSpan.FromDays(-2));
        var issuer = Ca.Intermediate(intermediate);

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem + intermediate.CertificatePem, issuer.KeyPem);

        Assert.Equal(
            (IssuerValid, "error", $"chain certificate CN=intermediate in the issuer file: not valid anymore. Expired on {Rfc(Now.AddDays(-2))}"),
            rows[^1]);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Intermediate_expiring_soon_warns_because_leaves_are_clamped_to_it()
    {
        var root = Ca.Root(pathLength: 2);
        var intermediate = Ca.Intermediate(root, "intermediate", pathLength: 1, notAfter: Now + TimeSpan.FromDays(45));
        var issuer = Ca.Intermediate(intermediate, notAfter: Now + TimeSpan.FromDays(40));

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem + intermediate.CertificatePem, issuer.KeyPem);

        Assert.Equal(
            $"will expire on {Rfc(Now.AddDays(40))}\nchain certificate CN=intermediate in the issuer file: will expire on {Rfc(Now.AddDays(45))}",
            rows.Single(r => r.Name == Issuer60).Message);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Anchor_path_length_too_small_for_the_issuer_is_reported()
    {
        // pathLen 1 lets the root sign the intermediate, so the issuer's own chain verifies; but the issuer is
        // a second CA below the root, so leaves it signs would not verify.
        var root = Ca.Root(pathLength: 1);
        var intermediate = Ca.Intermediate(root, "intermediate", pathLength: null);
        var issuer = Ca.Intermediate(intermediate);

        var (_, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem + intermediate.CertificatePem, issuer.KeyPem);

        Assert.Equal("ok", rows.Single(r => r.Name == IssuedBy).Status);
        var fit = rows.Single(r => r.Name == FitForIssuing);
        Assert.Equal("error", fit.Status);
        Assert.Equal("CN=root.linkerd.cluster.local has pathLenConstraint 1 but 2 CA certificate(s) below it on the path to leaves", fit.Message);
    }

    [Fact]
    public async Task Key_that_does_not_match_the_certificate_is_an_error()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, otherKey.ExportPkcs8PrivateKeyPem());

        AssertStatuses(rows, AllOkExcept((KeyMatches, "error")));
        Assert.StartsWith("tls: Public and private key do not match", rows.Single(r => r.Name == KeyMatches).Message, StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Non_ca_issuer_is_an_error()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root, isCa: false, keyUsage: X509KeyUsageFlags.DigitalSignature);

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, issuer.KeyPem);

        AssertStatuses(rows, AllOkExcept((FitForIssuing, "error")));
        var message = rows.Single(r => r.Name == FitForIssuing).Message;
        Assert.Contains("issuer cert is not a CA", message, StringComparison.Ordinal);
        Assert.Contains("lacks keyCertSign", message, StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
    }

    [Theory]
    [InlineData("\n", true)]
    [InlineData("  \n", true)]
    [InlineData("", true)]
    [InlineData("\n\n", false)]
    [InlineData("\ntrailing text\n", false)]
    public async Task Trailing_data_the_go_reader_rejects_is_a_warning(string trailer, bool ok)
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root);

        var (result, rows) = await CheckJsonAsync(root.Certificate.ExportCertificatePem() + trailer, issuer.CertificatePem, issuer.KeyPem, "--strict");

        var row = rows.Single(r => r.Name == GoPem);
        Assert.Equal(ok ? "ok" : "warning", row.Status);
        Assert.Equal(ok ? 0 : 1, result.ExitCode);
        if (!ok)
        {
            Assert.Contains("Linkerd's Go controller fails on them with \"not a PEM certificate\"", row.Message, StringComparison.Ordinal);
            Assert.StartsWith($"trust anchors ({Path.Combine(_dir, "ca-bundle.crt")}): {trailer.Length - 1} byte(s) after the last PEM block", row.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Self_signed_default_install_root_as_issuer_passes()
    {
        var root = Ca.Root("identity.linkerd.cluster.local", notAfter: Now + TimeSpan.FromDays(365));

        var (result, rows) = await CheckJsonAsync(root.CertificatePem, root.CertificatePem, ((ECDsa)root.Key).ExportECPrivateKeyPem());

        AssertStatuses(rows, AllOkExcept());
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Unreadable_inputs_fail_the_config_check_with_every_problem()
    {
        var result = await IdentityCli.RunAsync("check", "--anchors", Path.Combine(_dir, "missing.crt"),
            "--issuer-cert", Write("issuer.crt", "not pem"), "--issuer-key", Write("issuer.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"),
            "-o", "json");

        var rows = ParseRows(result.Stdout);
        var row = Assert.Single(rows);
        Assert.Equal((ConfigValid, "error"), (row.Name, row.Status));
        var lines = row.Message.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith($"cannot read the trust anchors file {Path.Combine(_dir, "missing.crt")}", lines[0], StringComparison.Ordinal);
        Assert.Equal($"issuer certificate ({Path.Combine(_dir, "issuer.crt")}): no PEM certificate found", lines[1]);
        Assert.StartsWith($"issuer key ({Path.Combine(_dir, "issuer.key")}): unsupported block type: 'ENCRYPTED PRIVATE KEY'", lines[2], StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
    }

    [Theory]
    [InlineData("linkerd.io/tls", "crt.pem", "key.pem")]
    [InlineData("kubernetes.io/tls", "tls.crt", "tls.key")]
    public async Task Issuer_dir_uses_the_file_names_of_the_scheme(string scheme, string certName, string keyName)
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root);
        var dir = Directory.CreateDirectory(Path.Combine(_dir, "issuer")).FullName;
        File.WriteAllText(Path.Combine(dir, certName), issuer.CertificatePem);
        File.WriteAllText(Path.Combine(dir, keyName), issuer.KeyPem);

        var result = await IdentityCli.RunAsync("check", "--issuer-dir", dir, "--scheme", scheme, "--anchors", Write("a.crt", root.CertificatePem), "-o", "json");

        AssertStatuses(ParseRows(result.Stdout), AllOkExcept());
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Issuer_dir_with_kubernetes_scheme_takes_anchors_from_ca_crt()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root);
        var dir = Directory.CreateDirectory(Path.Combine(_dir, "issuer")).FullName;
        File.WriteAllText(Path.Combine(dir, "tls.crt"), issuer.CertificatePem);
        File.WriteAllText(Path.Combine(dir, "tls.key"), issuer.KeyPem);
        File.WriteAllText(Path.Combine(dir, "ca.crt"), root.CertificatePem);

        var result = await IdentityCli.RunAsync("check", "--issuer-dir", dir, "--scheme", "kubernetes.io/tls", "-o", "json");

        AssertStatuses(ParseRows(result.Stdout), AllOkExcept());
    }

    [Fact]
    public async Task Issuer_dir_with_the_wrong_scheme_reports_the_missing_files()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root);
        var dir = Directory.CreateDirectory(Path.Combine(_dir, "issuer")).FullName;
        File.WriteAllText(Path.Combine(dir, "tls.crt"), issuer.CertificatePem);
        File.WriteAllText(Path.Combine(dir, "tls.key"), issuer.KeyPem);

        var result = await IdentityCli.RunAsync("check", "--issuer-dir", dir, "--anchors", Write("a.crt", root.CertificatePem), "-o", "json");

        var row = Assert.Single(ParseRows(result.Stdout));
        Assert.Contains(Path.Combine(dir, "crt.pem"), row.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dir, "key.pem"), row.Message, StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
    }

    [Theory]
    [InlineData("nothing to check", "check")]
    [InlineData("missing --issuer-key", "check", "--anchors", "a", "--issuer-cert", "b")]
    [InlineData("use either local files", "check", "--anchors", "a", "--context", "west")]
    [InlineData("--multicluster needs two or more distinct --context options", "check", "--multicluster", "--context", "west", "--context", "west")]
    [InlineData("several --context options need --multicluster", "check", "--context", "west", "--context", "east")]
    [InlineData("--issuer-dir cannot be combined", "check", "--issuer-dir", "d", "--issuer-key", "k")]
    public async Task Usage_errors_go_to_stderr_with_exit_1(string expected, params string[] args)
    {
        var result = await IdentityCli.RunAsync(args);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task Unknown_scheme_is_a_parse_error()
    {
        var result = await IdentityCli.RunAsync("check", "--issuer-dir", _dir, "--scheme", "bogus");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("bogus", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Private_key_never_appears_in_output()
    {
        var root = Ca.Root();
        var issuer = Ca.Intermediate(root);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyPem = otherKey.ExportECPrivateKeyPem();
        var keyBody = keyPem.Split('\n')[1];

        var (result, _) = await CheckJsonAsync(root.CertificatePem, issuer.CertificatePem, keyPem);

        Assert.DoesNotContain(keyBody, result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    internal static string Rfc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
