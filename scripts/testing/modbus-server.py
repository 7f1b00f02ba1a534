"""A real Modbus TCP server (pymodbus 3.0, as Debian bookworm ships it) for the integration tests.

argv[1]: JSON {"<unit id>": {"holding": [registers...], "input": [registers...]}}. Binds
127.0.0.1 on a free port and prints the port once it serves.
"""
import asyncio
import json
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server.async_io import ModbusTcpServer


async def main():
    spec = json.loads(sys.argv[1])
    units = {
        int(unit): ModbusSlaveContext(
            hr=ModbusSequentialDataBlock(0, tables["holding"]),
            ir=ModbusSequentialDataBlock(0, tables["input"]),
            # Request address n is datastore index n, as the PDU addresses it (APP §4.4).
            zero_mode=True,
        )
        for unit, tables in spec.items()
    }
    server = ModbusTcpServer(ModbusServerContext(slaves=units, single=False), address=("127.0.0.1", 0))
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    print(server.server.sockets[0].getsockname()[1], flush=True)
    await task


asyncio.run(main())
