using Microsoft.Extensions.Time.Testing;

namespace Identity.Cli.Tests.Cert;

public sealed class VerifyCommandTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(TestPaths.StepMade.AddDays(3));
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("identity-verify-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static string StepExpectation(string file)
    {
        // The files hold step's stderr followed by an "exit=N" line the recorder added.
        var text = File.ReadAllText(TestPaths.StepFile(file));
        return text[..text.IndexOf("exit=", StringComparison.Ordinal)];
    }

    [Fact]
    public void Valid_chain_prints_nothing_and_exits_0_like_verify_ok()
    {
        var (exit, stdout, stderr) = IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"), "--roots", TestPaths.StepFile("root.crt"));

        Assert.Equal("exit=0\n", File.ReadAllText(TestPaths.StepFile("verify-ok.txt")));
        Assert.Equal(0, exit);
        Assert.Equal("", stdout);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void Verbose_reports_each_check()
    {
        var (exit, stdout, _) = IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"), "--roots", TestPaths.StepFile("root.crt"),
            "--host", "web.test.serviceaccount.identity.linkerd.cluster.local", "--verbose");

        Assert.Equal(0, exit);
        Assert.Equal("certificate validated against roots\ncertificate host name validated\ncertificate is valid\n", stdout);
    }

    [Fact]
    public void Foreign_root_matches_step_verify_fail_byte_for_byte()
    {
        var (exit, stdout, stderr) = IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"), "--roots", TestPaths.StepFile("rsa-root.crt"));

        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Equal(StepExpectation("verify-fail.txt"), stderr);
    }

    [Fact]
    public void Wrong_host_matches_step_verify_host_fail_byte_for_byte()
    {
        var (exit, _, stderr) = IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"), "--roots", TestPaths.StepFile("root.crt"),
            "--host", "other.example.com");

        Assert.Equal(1, exit);
        Assert.Equal(StepExpectation("verify-host-fail.txt"), stderr);
    }

    [Fact]
    public void Expired_leaf_reports_the_dates()
    {
        var (exit, _, stderr) = IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("leaf-bundle.crt"), "--roots", TestPaths.StepFile("root.crt"));

        Assert.Equal(1, exit);
        Assert.Equal(
            "failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-11-29T11:21:55Z is after 2026-11-27T11:21:56Z\n",
            stderr);
    }

    [Fact]
    public void Roots_may_be_a_comma_list_or_a_directory()
    {
        File.Copy(TestPaths.StepFile("rsa-root.crt"), Path.Combine(_dir.FullName, "rsa.crt"));
        File.Copy(TestPaths.StepFile("root.crt"), Path.Combine(_dir.FullName, "ec.crt"));

        Assert.Equal(0, IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"), "--roots",
            $"{TestPaths.StepFile("rsa-root.crt")},{TestPaths.StepFile("root.crt")}").ExitCode);
        Assert.Equal(0, IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"), "--roots", _dir.FullName).ExitCode);
        Assert.Equal(1, IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"), "--roots", TestPaths.StepFile("rsa-root.crt")).ExitCode);
    }

    [Fact]
    public void Unreadable_roots_is_an_error_not_a_fallback_to_the_system_store()
    {
        var missing = Path.Combine(_dir.FullName, "missing.crt");

        var (exit, stdout, stderr) = IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"), "--roots", missing);

        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Equal($"error loading --roots: {missing}: no such file or directory\n", stderr);

        var list = $"{TestPaths.StepFile("root.crt")},{missing}";
        Assert.Equal($"error loading --roots: {missing}: no such file or directory\n",
            IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"), "--roots", list).Stderr);
        Assert.Equal($"error loading --roots: {_dir.FullName}: no certificates found in directory\n",
            IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"), "--roots", _dir.FullName).Stderr);
    }

    [Fact]
    public void Missing_certificate_file_is_an_error()
    {
        var missing = Path.Combine(_dir.FullName, "none.crt");

        var (exit, _, stderr) = IdentityCli.Run(_time, "cert", "verify", missing, "--roots", TestPaths.StepFile("root.crt"));

        Assert.Equal(1, exit);
        Assert.Equal($"error reading certificate: {missing}: no such file or directory\n", stderr);
    }

    [Fact]
    public void Without_roots_the_system_store_is_used_and_a_private_root_is_unknown()
    {
        var (exit, _, stderr) = IdentityCli.Run(_time, "cert", "verify", TestPaths.StepFile("chain.crt"));

        Assert.Equal(1, exit);
        Assert.Equal("failed to verify certificate: x509: certificate signed by unknown authority\n", stderr);
    }
}
