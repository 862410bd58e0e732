using Identity.Testing;
using static Identity.Cli.Tests.Check.CheckFixtures;

namespace Identity.Cli.Tests.Check;

/// <summary>`identity check`'s verdict on issuers shaped like Linkerd's install fixtures (see <see cref="LinkerdInstallCases"/>).</summary>
public sealed class LinkerdInstallCaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("identity-install-case-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(CliResult Result, List<(string Name, string Status, string Message)> Rows)> CheckAsync(string name)
    {
        var (anchor, issuer) = LinkerdInstallCases.Create(name, Ca);
        string Write(string file, string text)
        {
            var path = Path.Combine(_dir, file);
            File.WriteAllText(path, text);
            return path;
        }

        var result = await IdentityCli.RunAsync("check", "--anchors", Write("ca-bundle.crt", anchor.CertificatePem),
            "--issuer-cert", Write("issuer.crt", issuer.CertificatePem), "--issuer-key", Write("issuer.key", issuer.KeyPem),
            "--output", "json");
        return (result, CheckCommandTests.ParseRows(result.Stdout));
    }

    [Theory]
    [InlineData(LinkerdInstallCases.Valid)]
    [InlineData(LinkerdInstallCases.ValidWithRsaAnchor)]
    public async Task Valid_cases_pass_every_check(string name)
    {
        var (result, rows) = await CheckAsync(name);

        Assert.All(rows, r => Assert.True(r.Status == "ok", $"{r.Name}: {r.Status}: {r.Message}"));
        Assert.Equal(11, rows.Count);
        Assert.Equal(0, result.ExitCode);
    }

    [Theory]
    [InlineData(LinkerdInstallCases.Expired, "issuer cert is within its validity period", "not valid anymore. Expired on {-5}")]
    [InlineData(LinkerdInstallCases.NotValidYet, "issuer cert is within its validity period", "not valid before: {+5}")]
    [InlineData(LinkerdInstallCases.WrongAlgorithm, "issuer cert is using supported crypto algorithm", "must use P-256 curve for public key, instead P-521 was used")]
    public async Task Invalid_cases_fail_with_linkerds_message(string name, string check, string message)
    {
        var (result, rows) = await CheckAsync(name);

        var expected = message.Replace("{-5}", Rfc(Now.AddDays(-5)), StringComparison.Ordinal).Replace("{+5}", Rfc(Now.AddDays(5)), StringComparison.Ordinal);
        Assert.Equal((check, "error", expected), rows[^1]);
        Assert.Equal(1, result.ExitCode);
    }

    private static string Rfc(DateTimeOffset time) => CheckCommandTests.Rfc(time);
}
