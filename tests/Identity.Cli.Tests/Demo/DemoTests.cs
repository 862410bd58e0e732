using System.CommandLine;
using System.Text.RegularExpressions;
using Identity.Cli.Demo;

namespace Identity.Cli.Tests.Demo;

// The demo writes Kubernetes-style symlinked volumes and checks POSIX key modes; the suite runs on Linux.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class DemoTests
{
    private const string Podinfo = "podinfo.test.serviceaccount.identity.linkerd.cluster.local";
    private const string Frontend = "frontend.test.serviceaccount.identity.linkerd.cluster.local";
    private const string Gateway = "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local";

    [Fact]
    public async Task Demo_command_tells_the_whole_story_and_exits_zero()
    {
        var root = Commands.CreateRoot();

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var started = DateTime.UtcNow;
        var code = await root.Parse(["demo"]).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, TestContext.Current.CancellationToken);
        var elapsed = DateTime.UtcNow - started;
        var output = stdout.ToString();

        Assert.True(code == 0, $"demo exited {code}:\n{output}\n{stderr}");
        Assert.DoesNotContain("✗", output, StringComparison.Ordinal);
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"the demo took {elapsed}");
        Assert.Matches(PassLine(), output);

        // Every step, in order.
        var steps = StepLine().Matches(output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal([1, 2, 3, 4, 5, 6], steps);

        // Setup on loopback only, with refused foreign tokens.
        Assert.Contains("✓ trust anchor CN=root.linkerd.cluster.local (root-ca", output, StringComparison.Ordinal);
        Assert.Matches(@"✓ west/linkerd-identity-issuer: \.\.data -> \.\.\d{4}_\d\d_\d\d_", output);
        Assert.Matches(@"✓ west identity server on 127\.0\.0\.1:\d+ ", output);
        Assert.Matches(@"✓ east identity server on 127\.0\.0\.1:\d+ ", output);
        Assert.Contains("✓ east identity server refuses a west token: identity service returned", output, StringComparison.Ordinal);

        // Both greetings, with the identities verified in the handshakes and the issuer of each.
        Assert.Contains("✓ west podinfo answered: greetings from west", output, StringComparison.Ordinal);
        Assert.Contains("✓ east podinfo answered through the gateway: greetings from east", output, StringComparison.Ordinal);
        Assert.Contains($"✓ verified peer {Podinfo}, signed by west issuer", output, StringComparison.Ordinal);
        Assert.Contains($"✓ verified peer {Gateway}, signed by east issuer #1", output, StringComparison.Ordinal);
        Assert.Contains($"✓ the gateway verified its upstream as {Podinfo}, signed by east issuer #1", output, StringComparison.Ordinal);
        Assert.Contains($"✓ west podinfo verified its client as {Frontend}", output, StringComparison.Ordinal);

        // The two refusals, each with the gateway's precise reason.
        Assert.Contains("✓ a client without a certificate: refused by the gateway: \"client certificate required\" (ClientCertificateRequired)", output, StringComparison.Ordinal);
        Assert.Contains("✓ a client whose certificate comes from a foreign root: refused by the gateway: \"peer certificate does not chain to the trust anchors\" (UntrustedChain)", output, StringComparison.Ordinal);

        // Rotation under traffic: new issuer for east workloads, no failed call.
        Assert.Contains($"✓ east podinfo renewed: certified as {Podinfo} by east issuer #2", output, StringComparison.Ordinal);
        Assert.Contains($"✓ gateway renewed: certified as {Gateway} by east issuer #2", output, StringComparison.Ordinal);
        Assert.Contains("✓ east identity server raised IssuerUpdated (\"Updated identity issuer\") once", output, StringComparison.Ordinal);
        Assert.Contains("✓ west is unaffected: \"greetings from west\"", output, StringComparison.Ordinal);
        Assert.Contains("✓ the issuer the frontend verified on the gateway changed from east issuer #1 to east issuer #2", output, StringComparison.Ordinal);
        var rotation = RotationLine().Match(output);
        Assert.True(rotation.Success, output);
        Assert.True(int.Parse(rotation.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal("0", rotation.Groups[2].Value);

        // Nothing left behind.
        var workDir = WorkDirLine().Match(output).Groups[1].Value;
        Assert.NotEmpty(workDir);
        Assert.False(Directory.Exists(workDir));
    }

    [Fact]
    public async Task Runner_is_callable_with_a_plain_writer()
    {
        var output = new StringWriter();
        var code = await DemoRunner.RunAsync(output, TestContext.Current.CancellationToken);
        Assert.True(code == 0, output.ToString());
        Assert.Matches(PassLine(), output.ToString());
    }

    [Fact]
    public void A_failed_expectation_makes_exit_code_one_and_is_named_in_the_summary()
    {
        var output = new StringWriter();
        var report = new DemoReport(output);
        report.Step("first");
        report.Expect(true, "this held");
        report.Step("second");
        report.Expect(false, "this did not");

        Assert.Equal(1, report.Finish(TimeSpan.FromSeconds(1.25)));
        var text = output.ToString();
        Assert.Contains("    ✓ this held", text, StringComparison.Ordinal);
        Assert.Contains("    ✗ this did not", text, StringComparison.Ordinal);
        Assert.Contains("FAIL: 1 of 2 expectations did not hold; total time 1.3 s", text, StringComparison.Ordinal);
        Assert.Contains("  ✗ step 2: this did not", text, StringComparison.Ordinal);
    }

    [Fact]
    public void No_expectations_is_not_a_pass()
    {
        var report = new DemoReport(new StringWriter());
        Assert.Equal(1, report.Finish(TimeSpan.Zero));
    }

    [Fact]
    public void Secret_volume_swap_replaces_data_atomically_and_removes_the_old_set()
    {
        var dir = Directory.CreateTempSubdirectory("identity-demo-test-");
        try
        {
            var volume = Path.Combine(dir.FullName, "issuer");
            var secret = new HashSet<string> { "key.pem" };
            SecretVolume.Write(volume, new Dictionary<string, string> { ["crt.pem"] = "one-crt", ["key.pem"] = "one-key" }, secret);
            var first = SecretVolume.CurrentDataDirectory(volume);

            Assert.StartsWith("..", first, StringComparison.Ordinal);
            Assert.Equal(Path.Combine("..data", "crt.pem"), new FileInfo(Path.Combine(volume, "crt.pem")).LinkTarget);
            Assert.Equal(Path.Combine("..data", "key.pem"), new FileInfo(Path.Combine(volume, "key.pem")).LinkTarget);
            Assert.Equal("one-crt", File.ReadAllText(Path.Combine(volume, "crt.pem")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(volume, first, "key.pem")));

            SecretVolume.Write(volume, new Dictionary<string, string> { ["crt.pem"] = "two-crt", ["key.pem"] = "two-key" }, secret);
            var second = SecretVolume.CurrentDataDirectory(volume);

            Assert.NotEqual(first, second);
            Assert.False(Directory.Exists(Path.Combine(volume, first)));
            Assert.Equal("two-crt", File.ReadAllText(Path.Combine(volume, "crt.pem")));
            Assert.Equal("two-key", File.ReadAllText(Path.Combine(volume, "key.pem")));
            // Only the visible links, ..data and one timestamped directory: no temporary link left over.
            Assert.Equal(
                new[] { second, "..data", "crt.pem", "key.pem" }.Order(StringComparer.Ordinal),
                Directory.EnumerateFileSystemEntries(volume).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [GeneratedRegex(@"^PASS: all \d+ expectations held; total time \d+\.\d s$", RegexOptions.Multiline)]
    private static partial Regex PassLine();

    [GeneratedRegex(@"^\[(\d+)\] ", RegexOptions.Multiline)]
    private static partial Regex StepLine();

    [GeneratedRegex(@"✓ (\d+) calls during the rotation, (\d+) failed")]
    private static partial Regex RotationLine();

    [GeneratedRegex(@"^working directory: (.+)$", RegexOptions.Multiline)]
    private static partial Regex WorkDirLine();
}
