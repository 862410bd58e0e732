namespace Identity.Cli.Tests.Check;

/// <summary>
/// Credentials made by a real `step` (see MANIFEST.md in the step test data), checked at a time inside their
/// validity, so the results do not depend on today's date.
/// </summary>
public sealed class StepInteropTests
{
    // The vectors were made on 2026-11-26; the issuer lives 8760h, the root ten years.
    private static readonly DateTimeOffset At = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static async Task<(CliResult Result, List<(string Name, string Status, string Message)> Rows)> CheckAsync(string anchors, string cert, string key)
    {
        var dir = TestPaths.StepDirectory;
        var result = await IdentityCli.RunAsync(At, "check", "--anchors", Path.Combine(dir, anchors), "--issuer-cert", Path.Combine(dir, cert),
            "--issuer-key", Path.Combine(dir, key), "-o", "json");
        return (result, CheckCommandTests.ParseRows(result.Stdout));
    }

    [Fact]
    public async Task Step_root_ca_and_intermediate_ca_pass_every_check()
    {
        var (result, rows) = await CheckAsync("root.crt", "issuer.crt", "issuer.key");

        Assert.Equal(11, rows.Count);
        Assert.All(rows, r => Assert.Equal("ok", r.Status));
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Step_rsa_root_with_its_ec_intermediate_passes()
    {
        // step's intermediate-ca profile makes a P-256 key even under an RSA root: the SHA256-RSA signature is allowed.
        var (result, rows) = await CheckAsync("rsa-root.crt", "rsa-issuer.crt", "rsa-issuer.key");

        Assert.Equal(11, rows.Count);
        Assert.All(rows, r => Assert.Equal("ok", r.Status));
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Step_ed25519_root_fails_the_anchor_algorithm_check()
    {
        var (_, rows) = await CheckAsync("ed-root.crt", "issuer.crt", "issuer.key");

        Assert.Equal("trust anchors are using supported crypto algorithm", rows[^1].Name);
        Assert.EndsWith("must use ECDSA or RSA for public key algorithm, instead Ed25519 was used", rows[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Step_encrypted_issuer_key_is_a_config_error()
    {
        var (result, rows) = await CheckAsync("root.crt", "enc-issuer.crt", "enc-issuer.key");

        var row = Assert.Single(rows);
        Assert.Equal("error", row.Status);
        Assert.EndsWith("enc-issuer.key): the key is encrypted (Proc-Type: 4,ENCRYPTED); the controller only reads unencrypted keys", row.Message, StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Step_issuer_against_the_wrong_root_is_not_issued_by_the_anchor()
    {
        var (_, rows) = await CheckAsync("rsa-root.crt", "issuer.crt", "issuer.key");

        Assert.Equal("error", rows.Single(r => r.Name == "issuer cert is issued by the trust anchor").Status);
    }

    [Fact]
    public async Task Anchors_bundle_accepts_step_roots_and_rejects_step_issuer_self_signed_leaf_and_ed25519()
    {
        var dir = TestPaths.StepDirectory;

        var ok = await IdentityCli.RunAsync(At, "anchors", "bundle", Path.Combine(dir, "root.crt"), Path.Combine(dir, "rsa-root.crt"), "-o", "pem");
        var issuer = await IdentityCli.RunAsync(At, "anchors", "bundle", Path.Combine(dir, "issuer.crt"));
        var leaf = await IdentityCli.RunAsync(At, "anchors", "bundle", Path.Combine(dir, "selfsigned.crt"));
        var ed = await IdentityCli.RunAsync(At, "anchors", "bundle", Path.Combine(dir, "ed-root.crt"));

        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(2, ok.Stdout.Split("-----BEGIN CERTIFICATE-----").Length - 1);
        Assert.Contains("not self-signed", issuer.Stderr, StringComparison.Ordinal);
        Assert.Contains("not a CA certificate", leaf.Stderr, StringComparison.Ordinal);
        Assert.Contains("uses a Ed25519 key; trust anchors must use ECDSA or RSA", ed.Stderr, StringComparison.Ordinal);
        Assert.All(new[] { issuer, leaf, ed }, r => Assert.Equal(1, r.ExitCode));
    }
}
