// The independent oracle: reads a JSON list of simulations on stdin (iam-simulate's own
// `Simulation` shape), prints one verdict per simulation as a JSON list:
// "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "error: <message>".
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const simulations = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const verdicts = []
for (const simulation of simulations) {
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    verdicts.push('error: ' + JSON.stringify(response.errors))
  } else {
    verdicts.push(response.overallResult)
  }
}
process.stdout.write(JSON.stringify(verdicts))
