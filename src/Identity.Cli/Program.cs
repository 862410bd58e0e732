using System.CommandLine;
using System.CommandLine.Invocation;
using Identity.Cli;

var root = new RootCommand("Identity: a Linkerd-compatible certificate authority for service meshes.");
foreach (var command in Commands.All())
{
    root.Subcommands.Add(command);
}

var parseResult = root.Parse(args);
if (parseResult.Action is ParseErrorAction parseError)
{
    // Like step: a usage error is one message on stderr and exit 1; stdout stays empty so scripts that
    // capture it (cert sign, anchors bundle | kubectl apply) never receive help text as data.
    parseError.ShowHelp = false;
}

return await parseResult.InvokeAsync();
