"""A CoAP server made with aiocoap (scripts/coap-capture): a bedside sensor
gateway with a few resources and the /.well-known/core directory."""

import asyncio
import sys

import aiocoap
import aiocoap.resource as resource


class Reading(resource.Resource):
    def __init__(self, value, rt):
        super().__init__()
        self.value = value
        self.rt = rt

    def get_link_description(self):
        return dict(super().get_link_description(), rt=self.rt, ct="0")

    async def render_get(self, request):
        return aiocoap.Message(payload=self.value.encode(), content_format=0)

    async def render_put(self, request):
        self.value = request.payload.decode(errors="replace")
        return aiocoap.Message(code=aiocoap.CHANGED)


async def main(host):
    root = resource.Site()
    root.add_resource([".well-known", "core"], resource.WKCResource(root.get_resources_as_linkheader))
    root.add_resource(["ward7", "bed3", "spo2"], Reading("97", "oxygen-saturation"))
    root.add_resource(["ward7", "bed3", "hr"], Reading("72", "heart-rate"))
    root.add_resource(["config", "interval"], Reading("5", "config"))
    await aiocoap.Context.create_server_context(root, bind=(host, 5683))
    await asyncio.get_running_loop().create_future()


asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"))
