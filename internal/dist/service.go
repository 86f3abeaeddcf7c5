package dist

import (
	"fmt"
	"strings"
)

// The Windows package's service scripts, in the shape and with the folders
// of Elastic's beats' own (dev-tools/packaging/templates/windows in
// elastic/beats, 9.1 and later), so that a winlogbeat user installs
// webshellbeat the way they installed winlogbeat:
//
//	PowerShell.exe -ExecutionPolicy UnRestricted -File .\install-service-webshellbeat.ps1
//
// The binary and its configuration stay where the zip was unpacked; state
// and logs go to "C:\Program Files\Webshellbeat-Data\Webshellbeat". The
// keystore stays the unpacked folder's (data\webshellbeat.keystore), the one
// `.\webshellbeat.exe keystore add` writes when run from that folder, so
// that secrets added there are the service's. Unlike the beats' script there
// is no legacy data folder to move: webshellbeat has had no other.
const (
	installScript   = "install-service-" + Name + ".ps1"
	uninstallScript = "uninstall-service-" + Name + ".ps1"
	// serviceTitle is the service's display name, and the folder name
	// Elastic's scripts give a beat: its name with a capital.
	serviceTitle = "Webshellbeat"
)

// serviceArgs are the arguments the service runs the beat with, written as
// PowerShell text: $WorkDir, $HomePath, $LogsPath and $KeystorePath are the
// install script's variables. With no command the beat runs (`run`).
var serviceArgs = []string{
	"--environment=windows_service",
	"-c `\"$WorkDir\\" + Name + ".yml`\"",
	"--path.home `\"$WorkDir`\"",
	"--path.data `\"$HomePath`\"",
	"--path.logs `\"$LogsPath`\"",
	"-E keystore.path=`\"$KeystorePath`\"",
	"-E logging.files.redirect_stderr=true",
}

// stopAndDelete stops and deletes the service if it exists; both scripts
// begin with it (install replaces an existing service).
var stopAndDelete = fmt.Sprintf(`# Stop and delete the service if it exists.
if (Get-Service %[1]s -ErrorAction SilentlyContinue) {
  Stop-Service %[1]s
  (Get-Service %[1]s).WaitForStatus('Stopped')
  Start-Sleep -s 1
  sc.exe delete %[1]s
}
`, Name)

// InstallServiceScript is the text of install-service-webshellbeat.ps1.
func InstallServiceScript() string {
	var cmd strings.Builder
	cmd.WriteString("$FullCmd = \"`\"$WorkDir\\" + Name + ".exe`\" \" +\n")
	for i, a := range serviceArgs {
		sep := " \" +\n"
		if i == len(serviceArgs)-1 {
			sep = "\"\n"
		}
		cmd.WriteString("           \"" + a + sep)
	}
	return crlf(fmt.Sprintf(`<#
.SYNOPSIS
    Installs the %[2]s Windows service.
.DESCRIPTION
    Runs webshellbeat.exe and webshellbeat.yml from this folder as the
    service %[1]s (delayed automatic start), with its data and logs in
    "$env:ProgramFiles\%[2]s-Data\%[2]s". An existing %[1]s service is
    stopped and replaced. Run it as Administrator:
    PowerShell.exe -ExecutionPolicy UnRestricted -File .\%[3]s
#>

%[4]s
$WorkDir = Split-Path $MyInvocation.MyCommand.Path
$BasePath = "$env:ProgramFiles\%[2]s-Data"
$HomePath = "$BasePath\%[2]s"
$LogsPath = "$HomePath\logs"
$KeystorePath = "$WorkDir\data\%[1]s.keystore"

%[5]s
New-Service -name %[1]s `+"`"+`
  -displayName %[2]s `+"`"+`
  -description "Finds web shells by their behaviour and sends ECS events and alerts to Elasticsearch or OpenSearch." `+"`"+`
  -binaryPathName $FullCmd

# Delayed start: after the network and the event log service are up.
Try {
  Start-Process -FilePath sc.exe -ArgumentList 'config %[1]s start= delayed-auto'
}
Catch { Write-Host -f red "An error occurred setting the service to delayed start." }
`, Name, serviceTitle, installScript, stopAndDelete, cmd.String()))
}

func uninstallService() string {
	return crlf(fmt.Sprintf(`<#
.SYNOPSIS
    Uninstalls the %[2]s Windows service (its data and logs are kept).
#>

%[3]s`, Name, serviceTitle, stopAndDelete))
}

// crlf gives a script Windows line ends, as Notepad and PowerShell ISE
// expect.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
