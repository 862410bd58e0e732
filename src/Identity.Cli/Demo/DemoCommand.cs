using System.CommandLine;

namespace Identity.Cli.Demo;

/// <summary><c>identity demo</c>: the multicluster story of Linkerd's guide, on loopback, in a few seconds.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command(
            "demo",
            "Run two identity servers (west, east) sharing one trust anchor on 127.0.0.1: mTLS across a gateway, refusals, and an issuer rotation under traffic. Needs no setup; exits 1 if any expectation fails.");
        command.SetAction((parseResult, cancellationToken) => DemoRunner.RunAsync(parseResult.InvocationConfiguration.Output, cancellationToken));
        return command;
    }
}
