using Identity.Pki.Files;

namespace Identity.Pki.Tests.Files;

public sealed class SecureFileTests
{
    [Fact]
    public void New_file_is_owner_only_and_leaves_no_temp_file()
    {
        using var tmp = new TempDirectory("identity-pki-");
        SecureFile.WriteText(tmp.File("a.key"), "secret", overwrite: false);
        Assert.Equal("secret", File.ReadAllText(tmp.File("a.key")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tmp.File("a.key")));
        }

        Assert.Equal(["a.key"], Directory.GetFiles(tmp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Existing_file_is_kept_without_overwrite_and_replaced_with_it()
    {
        using var tmp = new TempDirectory("identity-pki-");
        File.WriteAllText(tmp.File("a.crt"), "old");
        var e = Assert.Throws<PkiException>(() => SecureFile.WriteText(tmp.File("a.crt"), "new", overwrite: false));
        Assert.Contains("already exists: use --force to overwrite it", e.Message, StringComparison.Ordinal);
        Assert.Equal("old", File.ReadAllText(tmp.File("a.crt")));
        SecureFile.WriteText(tmp.File("a.crt"), "new", overwrite: true);
        Assert.Equal("new", File.ReadAllText(tmp.File("a.crt")));
        Assert.Single(Directory.GetFiles(tmp.Path));
    }

    [Fact]
    public void Missing_directory_is_a_clear_error()
    {
        using var tmp = new TempDirectory("identity-pki-");
        var e = Assert.Throws<PkiException>(() => SecureFile.WriteText(tmp.File("nope/a.crt"), "x", overwrite: false));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Password_files_are_trimmed_at_the_end_only()
    {
        using var tmp = new TempDirectory("identity-pki-");
        File.WriteAllText(tmp.File("p"), "  pass word \r\n\t\n");
        Assert.Equal("  pass word", InputFiles.ReadPassword(tmp.File("p")));
        File.WriteAllText(tmp.File("empty"), "\n");
        Assert.Throws<PkiException>(() => InputFiles.ReadPassword(tmp.File("empty")));
        Assert.Contains("no such file", Assert.Throws<PkiException>(() => InputFiles.Read(tmp.File("missing"))).Message, StringComparison.Ordinal);
    }
}
