/** The seed's "example data received from external service" (seed-incoming-integration.txt, SPEC 4). */
export const SEED_BODY = {
  customer_email: "example@example.com",
  order_number: "111111111",
  type: "email",
  language: "eng",
  products: [
    {
      name: "Earwax",
      category: "Hygiene",
      id: "abcdefgh",
      image_url: "http://exampleimage.url",
      product_url: "http://exampleproduct.url",
      group_id: "groupid",
    },
  ],
};
