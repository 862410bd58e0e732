using System.CommandLine.Invocation;
using Identity.Cli;

var parseResult = Commands.CreateRoot().Parse(Commands.FromLinkerdChart(args));
if (parseResult.Action is ParseErrorAction parseError)
{
    // Like step: a usage error is one message on stderr and exit 1; stdout stays empty so scripts that
    // capture it (cert sign, anchors bundle | kubectl apply) never receive help text as data.
    parseError.ShowHelp = false;
}

return await parseResult.InvokeAsync();
