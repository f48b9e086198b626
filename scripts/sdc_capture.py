"""SDC (IEEE 11073-20701) provider and consumer for scripts/sdc-capture.

Runs one side of the exchange with the PyPI sdc11073 package (pinned by
scripts/sdc-capture), without TLS and without HTTP compression so the
traffic can be read:

    python3 sdc_capture.py provider IP SECONDS
    python3 sdc_capture.py consumer IP

The provider announces itself over WS-Discovery (Hello), answers Probes and
serves its DPWS metadata (ThisModel, ThisDevice: distinctive values) and a
small MDIB: one MDS, one VMD with a numeric metric, and a patient context
whose state carries planted CANARY values. The consumer probes for SDC
providers, reads the metadata, the MDIB, the context states and the metric
states, then ends. The wheel bundles no example MDIB, so the MDIB is built
here (the same shape as the reference_mdib.xml of the project's examples).
"""

import decimal
import sys
import time
import uuid

from sdc11073 import provider as sdc_provider
from sdc11073.location import SdcLocation
from sdc11073 import wsdiscovery
from sdc11073.consumer import consumerimpl
from sdc11073.consumer.consumerimpl import SdcConsumer
from sdc11073.mdib import ProviderMdib
from sdc11073.xml_types import pm_types
from sdc11073.xml_types.isoduration import XsdDateInformation
from sdc11073.xml_types.dpws_types import ThisDeviceType, ThisModelType

CANARY_GIVEN = "CanaryGiven7731"
CANARY_FAMILY = "CanaryFamily7731"
CANARY_MRN = "MRN-CANARY-7731"
CANARY_BIRTH = "1931-07-31"
# Planted metric value: a reading the consumer fetches, never stored by Ward.
CANARY_METRIC = "97.73117"
EPR = uuid.UUID("7731a5dc-0b1e-4c2a-9d3e-77310000a5dc")

MDIB = b"""<?xml version="1.0" encoding="UTF-8"?>
<msg:GetMdibResponse xmlns:msg="http://standards.ieee.org/downloads/11073/11073-10207-2017/message"
 xmlns:pm="http://standards.ieee.org/downloads/11073/11073-10207-2017/participant"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" MdibVersion="0"
 SequenceId="urn:uuid:7731a5dc-0000-4000-8000-000000007731">
 <msg:Mdib MdibVersion="0" SequenceId="urn:uuid:7731a5dc-0000-4000-8000-000000007731">
  <pm:MdDescription DescriptionVersion="0">
   <pm:Mds Handle="mds0" DescriptorVersion="0">
    <pm:Type Code="67108865"/>
    <pm:SystemContext Handle="sc0" DescriptorVersion="0">
     <pm:PatientContext Handle="pc0" DescriptorVersion="0"/>
     <pm:LocationContext Handle="lc0" DescriptorVersion="0"/>
    </pm:SystemContext>
    <pm:Vmd Handle="vmd0" DescriptorVersion="0">
     <pm:Type Code="69650"/>
     <pm:Channel Handle="ch0" DescriptorVersion="0">
      <pm:Type Code="69651"/>
      <pm:Metric xsi:type="pm:NumericMetricDescriptor" Handle="spo2.ch0.vmd0"
       DescriptorVersion="0" MetricCategory="Msrmt" MetricAvailability="Cont" Resolution="0.00001">
       <pm:Type Code="150456"/>
       <pm:Unit Code="262688"/>
      </pm:Metric>
     </pm:Channel>
    </pm:Vmd>
   </pm:Mds>
  </pm:MdDescription>
 </msg:Mdib>
</msg:GetMdibResponse>
"""


def provider(ip: str, seconds: float) -> None:
    wsd = wsdiscovery.WSDiscovery(ip)
    wsd.start()
    model = ThisModelType(
        manufacturer="Wardtest Medical GmbH",
        manufacturer_url="http://wardtest.example/",
        model_name="InfuWard SDC 7731",
        model_number="IW-7731-B",
        model_url="http://wardtest.example/iw7731",
        presentation_url="http://wardtest.example/iw7731/ui",
    )
    device = ThisDeviceType(
        friendly_name="Ward7 Bed3 Pump",
        firmware_version="fw-4.2.7731",
        serial_number="SN-IW-0007731",
    )
    mdib = ProviderMdib.from_string(MDIB)
    prov = sdc_provider.SdcProvider(
        ws_discovery=wsd,
        this_model=model,
        this_device=device,
        device_mdib_container=mdib,
        epr=EPR,
        ssl_context_container=None,
    )
    prov.set_used_compression()
    prov.start_all(start_rtsample_loop=False)
    with prov.mdib.context_state_transaction() as mgr:
        state = mgr.mk_context_state("pc0")
        state.CoreData.Givenname = CANARY_GIVEN
        state.CoreData.Familyname = CANARY_FAMILY
        y, m, d = (int(x) for x in CANARY_BIRTH.split("-"))
        state.CoreData.DateOfBirth = XsdDateInformation(y, m, d)
        state.Identification = [pm_types.InstanceIdentifier("urn:oid:1.2.3.7731", extension_string=CANARY_MRN)]
        state.ContextAssociation = pm_types.ContextAssociation.ASSOCIATED
    with prov.mdib.metric_state_transaction() as mgr:
        state = mgr.get_state("spo2.ch0.vmd0")
        if not state.MetricValue:
            state.mk_metric_value()
        state.MetricValue.Value = decimal.Decimal(CANARY_METRIC)
    prov.set_location(SdcLocation(fac="ward", poc="w7", bed="b3"))
    print("provider up", flush=True)
    time.sleep(seconds)
    prov.stop_all()
    wsd.stop()


def consumer(ip: str) -> None:
    wsd = wsdiscovery.WSDiscovery(ip)
    wsd.start()
    services = []
    for _ in range(5):
        services = wsd.search_sdc_services(timeout=2, repeat_probe_interval=2)
        if services:
            break
    if not services:
        sys.exit("no SDC provider found")
    # The WSDLs (about 100 KB each, no identity) are not fetched: the
    # fixture stays small.
    consumerimpl.HostedServiceDescription._read_wsdl = lambda *_args: None  # noqa: SLF001
    client = SdcConsumer.from_wsd_service(services[0], ssl_context_container=None)
    client.set_used_compression()
    client.start_all(not_subscribed_actions=None)
    get = client.get_service_client
    get.get_mdib()
    result = get.get_md_state()
    metrics = [s for s in result.result.MdState.State if getattr(s, "MetricValue", None) is not None]
    contexts = client.context_service_client.get_context_states().result.ContextState
    names = [getattr(getattr(c, "CoreData", None), "Givenname", None) for c in contexts]
    print("consumer read", len(metrics), "metrics,", len(contexts), "contexts", names, flush=True)
    time.sleep(1)
    client.stop_all()
    wsd.stop()


if __name__ == "__main__":
    if sys.argv[1] == "provider":
        provider(sys.argv[2], float(sys.argv[3]))
    else:
        consumer(sys.argv[2])
