namespace Identity.Cli.Tests.Cert;

public sealed class InspectCommandTests
{
    [Fact]
    public void Text_matches_step_inspect_leaf_line_for_line()
    {
        var (exit, stdout, stderr) = CertCli.Run("cert", "inspect", CertCli.Step("leaf.crt"));

        Assert.Equal("", stderr);
        Assert.Equal(0, exit);
        Assert.Equal(CertCli.StepText("inspect-leaf.txt").Split('\n'), stdout.Split('\n'));
    }

    [Fact]
    public void Short_matches_step_inspect_root_short()
    {
        var (exit, stdout, _) = CertCli.Run("cert", "inspect", CertCli.Step("root.crt"), "--short");

        Assert.Equal(0, exit);
        Assert.Equal(CertCli.StepText("inspect-root-short.txt"), stdout);
    }
}
