using System.Diagnostics;

namespace Identity.Pki.Tests.Support;

/// <summary>Runs the real /usr/bin/openssl.</summary>
internal static class OpenSsl
{
    public const string Path = "/usr/bin/openssl";

    public static (int ExitCode, string Stdout, string Stderr) Run(string workingDirectory, params string[] args)
    {
        Assert.SkipUnless(File.Exists(Path), "openssl is not installed at " + Path);
        var psi = new ProcessStartInfo(Path)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public static string RunOk(string workingDirectory, params string[] args)
    {
        var (code, stdout, stderr) = Run(workingDirectory, args);
        Assert.True(code == 0, $"openssl {string.Join(' ', args)} failed ({code}): {stderr}");
        return stdout;
    }
}
