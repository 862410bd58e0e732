using System.CommandLine;

namespace Identity.Cli.Cert;

/// <summary>The <c>identity cert</c> group: step-compatible certificate commands.</summary>
internal static class CertCommand
{
    public static Command Create() => Create(TimeProvider.System);

    /// <summary>Builds the group with an injected clock (tests use a fake one).</summary>
    internal static Command Create(TimeProvider time)
    {
        var command = new Command("cert", "Create, sign, bundle, inspect and verify X.509 certificates (step-compatible).");
        command.Subcommands.Add(CreateCommand.Create(time));
        command.Subcommands.Add(SignCommand.Create(time));
        command.Subcommands.Add(BundleCommand.Create());
        command.Subcommands.Add(InspectCommand.Create());
        command.Subcommands.Add(FingerprintCommand.Create());
        command.Subcommands.Add(VerifyCommand.Create());
        return command;
    }
}
