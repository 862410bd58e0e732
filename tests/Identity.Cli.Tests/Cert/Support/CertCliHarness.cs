using System.CommandLine;
using System.Diagnostics;

namespace Identity.Cli.Tests.Cert.Support;

/// <summary>Runs the real `identity` command tree in-process with captured stdout/stderr.</summary>
internal static class CertCli
{
    public static CliResult Run(params string[] args)
    {
        var root = new RootCommand("identity");
        foreach (var command in Commands.All())
        {
            root.Subcommands.Add(command);
        }

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = root.Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public static CliResult RunOk(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 0, $"identity {string.Join(' ', args)} failed ({result.ExitCode}): {result.Stderr}");
        return result;
    }
}

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>The real step vectors in ../shared/testdata/step, found from the solution folder.</summary>
internal static class StepVectors
{
    private static readonly Lazy<string> Dir = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Identity.sln")))
        {
            dir = dir.Parent;
        }

        var path = Path.Combine(dir?.Parent?.FullName ?? "/", "shared", "testdata", "step");
        return Directory.Exists(path) ? path : throw new InvalidOperationException("step test data not found at " + path);
    });

    public static string PathOf(string name) => Path.Combine(Dir.Value, name);
}

/// <summary>A temporary working directory, removed on dispose.</summary>
internal sealed class WorkDir : IDisposable
{
    public WorkDir() => Path = Directory.CreateTempSubdirectory("identity-cli-").FullName;

    public string Path { get; }

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Runs the real /usr/bin/openssl.</summary>
internal static class OpenSslCli
{
    public static (int ExitCode, string Output) Run(string workingDirectory, params string[] args)
    {
        Assert.SkipUnless(File.Exists("/usr/bin/openssl"), "openssl is not installed at /usr/bin/openssl");
        var psi = new ProcessStartInfo("/usr/bin/openssl")
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
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public static string RunOk(string workingDirectory, params string[] args)
    {
        var (code, output) = Run(workingDirectory, args);
        Assert.True(code == 0, $"openssl {string.Join(' ', args)} failed ({code}): {output}");
        return output;
    }
}
