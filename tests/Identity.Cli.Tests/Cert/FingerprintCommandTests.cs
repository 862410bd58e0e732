using System.Security.Cryptography;

namespace Identity.Cli.Tests.Cert;

public sealed class FingerprintCommandTests
{
    [Fact]
    public void Leaf_matches_step_fingerprint_leaf()
    {
        var (exit, stdout, stderr) = IdentityCli.Run("cert", "fingerprint", TestPaths.StepFile("leaf.crt"));

        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("fingerprint-leaf.txt")), stdout);
    }

    [Fact]
    public void Bundle_matches_step_fingerprint_bundle()
    {
        var (exit, stdout, _) = IdentityCli.Run("cert", "fingerprint", TestPaths.StepFile("leaf-bundle.crt"), "--bundle");

        Assert.Equal(0, exit);
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("fingerprint-bundle.txt")), stdout);
    }

    [Fact]
    public void Without_bundle_only_the_first_certificate_is_printed()
    {
        var (_, stdout, _) = IdentityCli.Run("cert", "fingerprint", TestPaths.StepFile("leaf-bundle.crt"));

        Assert.Equal(File.ReadAllText(TestPaths.StepFile("fingerprint-bundle.txt")).Split('\n')[0][3..] + "\n", stdout);
    }

    [Theory]
    [InlineData("base64", "IFAAPoRwB6Vb0q/QFrLRVe3fbl24a4eeoeMFqS84/sc=")]
    [InlineData("base64-raw", "IFAAPoRwB6Vb0q/QFrLRVe3fbl24a4eeoeMFqS84/sc")]
    [InlineData("base64-url", "IFAAPoRwB6Vb0q_QFrLRVe3fbl24a4eeoeMFqS84_sc=")]
    [InlineData("base64-url-raw", "IFAAPoRwB6Vb0q_QFrLRVe3fbl24a4eeoeMFqS84_sc")]
    [InlineData("hex", "2050003e847007a55bd2afd016b2d155eddf6e5db86b879ea1e305a92f38fec7")]
    public void Formats_encode_the_same_digest(string format, string expected)
    {
        var (exit, stdout, _) = IdentityCli.Run("cert", "fingerprint", TestPaths.StepFile("leaf.crt"), "--format", format);

        Assert.Equal(0, exit);
        Assert.Equal(expected + "\n", stdout);
        var digest = format == "hex"
            ? expected
            : Convert.ToHexStringLower(Convert.FromBase64String(expected.Replace('-', '+').Replace('_', '/').PadRight(44, '=')));
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("fingerprint-leaf.txt")).Trim(), digest);
    }

    [Fact]
    public void Csr_fingerprint_is_the_sha256_of_its_der()
    {
        var pem = File.ReadAllText(TestPaths.StepFile("req.csr"));
        var der = PemEncodingDer(pem);

        var (exit, stdout, _) = IdentityCli.Run("cert", "fingerprint", TestPaths.StepFile("req.csr"));

        Assert.Equal(0, exit);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(der)) + "\n", stdout);
    }

    [Fact]
    public void Unknown_format_and_missing_file_are_errors()
    {
        var bad = IdentityCli.Run("cert", "fingerprint", TestPaths.StepFile("leaf.crt"), "--format", "emoji");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("emoji", bad.Stderr, StringComparison.Ordinal);

        var missing = IdentityCli.Run("cert", "fingerprint", "/nonexistent/x.crt");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("error reading certificate: /nonexistent/x.crt: no such file or directory\n", missing.Stderr);
    }

    private static byte[] PemEncodingDer(string pem)
    {
        var fields = System.Security.Cryptography.PemEncoding.Find(pem);
        return Convert.FromBase64String(pem[fields.Base64Data]);
    }
}
